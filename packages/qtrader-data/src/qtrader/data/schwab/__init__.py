"""The Schwab adapter: daily price history from the Schwab Trader API, with a Parquet cache.

``authorize_url`` and ``complete_login`` are the sign-in flow ``qtrader data login`` runs;
``SchwabBarSource`` fetches what its cache lacks and serves bars from the cache.
"""

from qtrader.data.registry import OAuthLogin, SourceSpec
from qtrader.data.schwab._auth import authorize_url, complete_login
from qtrader.data.schwab.config import SchwabDataConfig
from qtrader.data.schwab.source import SchwabBarSource

SOURCE = SourceSpec(
    name="schwab",
    config=SchwabDataConfig,
    build=SchwabBarSource,
    summary="Schwab Trader API daily price history (split-adjusted), cached as Parquet",
    login=OAuthLogin(authorize_url, complete_login, default_callback_url="https://127.0.0.1"),
)

__all__ = ["SOURCE", "SchwabBarSource", "SchwabDataConfig", "authorize_url", "complete_login"]
