"""QTrader portfolio service."""
