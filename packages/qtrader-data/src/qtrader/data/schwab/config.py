"""Configuration of the Schwab market-data source (``source: schwab``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from qtrader.data.options import BarOptions, SourcePath

DEFAULT_BASE_URL = "https://api.schwabapi.com"


class SchwabDataConfig(BarOptions):
    """Daily price history from the Schwab Trader API, kept in a Parquet cache.

    ``app_key`` and ``app_secret`` are ``SecretStr``: their repr and any dump for
    humans show ``**********``. They are needed only to fetch; a backtest whose
    data is all cached runs without them (and without network).
    """

    base_url: str = DEFAULT_BASE_URL
    token_file: SourcePath = Path("~/.config/qtrader/schwab-token.json")
    """OAuth tokens (written by ``qtrader data login``, or schwab-py's token file)."""
    app_key: SecretStr | None = None
    app_secret: SecretStr | None = None
    cache: SourcePath = Path(".qtrader/cache")
    """Folder of the Parquet cache (relative to the config file)."""
    requests_per_minute: int = Field(default=120, ge=1)
    """Client-side limit on requests to Schwab in any 60-second window (Schwab allows 120)."""
    max_attempts: int = Field(default=5, ge=1, le=20)
    """Tries per request when Schwab answers 429 or 5xx or the connection fails."""
    backoff_seconds: float = Field(default=1.0, ge=0.0, allow_inf_nan=False)
    """Wait before the second try; doubled for each further try."""
    max_backoff_seconds: float = Field(default=30.0, ge=0.0, allow_inf_nan=False)
    max_retry_after_seconds: float = Field(default=300.0, ge=0.0, allow_inf_nan=False)
    """A 429 asking to wait longer than this fails at once instead of waiting."""
    max_years_per_request: int = Field(default=10, ge=1, le=20)
    """Longer ranges are fetched in several requests of at most this many years."""
    timeout_seconds: float = Field(default=30.0, gt=0.0, allow_inf_nan=False)
    refresh_margin_seconds: float = Field(default=60.0, ge=0.0, allow_inf_nan=False)
    """An access token this close to its expiry is refreshed before a call."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"base_url must start with https:// (got {value!r})")
        return value.rstrip("/")

    @field_validator("app_key", "app_secret")
    @classmethod
    def _blank_is_missing(cls, value: SecretStr | None) -> SecretStr | None:
        # "${SCHWAB_APP_KEY:-}" substitutes an empty string: the same as not given.
        if value is not None and not value.get_secret_value().strip():
            return None
        return value
