"""QTrader engine service."""
