"""QTrader risk service."""
