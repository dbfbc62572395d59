"""QTrader execution service."""
