"""QTrader data service."""
