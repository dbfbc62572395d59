"""Schwab OAuth2: the token file, refreshing the access token, and the login flow.

The token file is JSON ``{"access_token", "refresh_token", "expires_at"}``
(``expires_at`` in seconds since the epoch), or the file schwab-py writes,
``{"creation_timestamp": ..., "token": {"access_token", "refresh_token",
"expires_at" or "expires_in", ...}}``; a file is rewritten in the layout it was
read in (so schwab-py can go on using it), atomically and readable by its owner
only (mode 0600).

Tokens and the app secret are ``SecretStr`` everywhere: no message, log record
or repr shows them. An access token lasts about 30 minutes and is refreshed
before a call when it is about to expire; the refresh token lasts 7 days, after
which only ``qtrader data login`` helps.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx
from pydantic import SecretStr

from qtrader.data.errors import DataError
from qtrader.data.schwab._client import Clock, RetryingSender, excerpt, log
from qtrader.data.schwab.config import SchwabDataConfig

TOKEN_PATH = "/v1/oauth/token"
AUTHORIZE_PATH = "/v1/oauth/authorize"
LOGIN_HINT = "run `qtrader data login` to sign in to Schwab again"


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: SecretStr
    refresh_token: SecretStr
    expires_at: float
    """When the access token expires, in seconds since the epoch."""
    envelope: Mapping[str, Any] | None = field(default=None, repr=False)
    """schwab-py's file as read (``None``: our own layout), to rewrite it alike."""

    def secrets(self) -> tuple[str, ...]:
        return (self.access_token.get_secret_value(), self.refresh_token.get_secret_value())


def _token_text(value: Any) -> SecretStr | None:
    return SecretStr(value) if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def read_tokens(path: Path) -> Tokens:
    """The tokens of ``path`` (our layout or schwab-py's); ``DataError`` without its content."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"no Schwab token file; {LOGIN_HINT}", path=path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"unreadable Schwab token file ({type(exc).__name__}); {LOGIN_HINT}", path=path
        ) from None
    envelope: Mapping[str, Any] | None = None
    if isinstance(data, dict) and isinstance(data.get("token"), dict):
        envelope, data = data, data["token"]
    if not isinstance(data, dict):
        raise DataError(f"the Schwab token file is not a JSON object; {LOGIN_HINT}", path=path)
    access, refresh = _token_text(data.get("access_token")), _token_text(data.get("refresh_token"))
    if access is None or refresh is None:
        raise DataError(
            f"the Schwab token file lacks access_token or refresh_token; {LOGIN_HINT}", path=path
        )
    # schwab-py's token may carry only expires_in (relative to an unknown moment):
    # take it as expired, which costs one refresh.
    expires_at = _number(data.get("expires_at"))
    return Tokens(access, refresh, 0.0 if expires_at is None else expires_at, envelope)


def write_tokens(path: Path, tokens: Tokens) -> None:
    """Replace ``path`` atomically with ``tokens``, readable by its owner only."""
    values = {
        "access_token": tokens.access_token.get_secret_value(),
        "refresh_token": tokens.refresh_token.get_secret_value(),
        "expires_at": tokens.expires_at,
    }
    if tokens.envelope is None:
        document: dict[str, Any] = values
    else:
        document = dict(tokens.envelope)
        document["token"] = {**document["token"], **values}
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2)
            file.flush()
            os.fsync(file.fileno())
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise


def credentials(config: SchwabDataConfig) -> tuple[str, str]:
    """``(app_key, app_secret)``; a clear error when the config lacks them."""
    if config.app_key is None or config.app_secret is None:
        raise DataError(
            "app_key and app_secret are needed to reach Schwab: set them in the data: block "
            "(app_key: ${SCHWAB_APP_KEY}, app_secret: ${SCHWAB_APP_SECRET})"
        )
    return config.app_key.get_secret_value(), config.app_secret.get_secret_value()


def _basic_auth(config: SchwabDataConfig) -> str:
    key, secret = credentials(config)
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode("ascii")


def _parse_token_answer(
    response: httpx.Response, previous: Tokens | None, now: float, what: str
) -> Tokens:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise DataError(f"{what}: Schwab's token answer is not a JSON object")
    access = _token_text(data.get("access_token"))
    # Schwab repeats the refresh token in a refresh answer; keep the old one if not.
    refresh = _token_text(data.get("refresh_token"))
    if refresh is None and previous is not None:
        refresh = previous.refresh_token
    expires_in = _number(data.get("expires_in"))
    if access is None or refresh is None or expires_in is None:
        raise DataError(
            f"{what}: Schwab's token answer lacks access_token, refresh_token or expires_in"
        )
    envelope = previous.envelope if previous is not None else None
    if envelope is not None:
        # Keep schwab-py's view of the token complete (token_type, scope, id_token ...).
        token = {**envelope["token"], **data}
        envelope = {**envelope, "token": token}
    return Tokens(access, refresh, now + expires_in, envelope)


class TokenKeeper:
    """The current tokens of one token file, refreshed when they expire."""

    def __init__(self, config: SchwabDataConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._tokens: Tokens | None = None

    def __repr__(self) -> str:
        return f"TokenKeeper({str(self._config.token_file)!r})"

    def secrets(self) -> tuple[str, ...]:
        """Every secret a message could leak, for redaction."""
        config = self._config
        known = [s.get_secret_value() for s in (config.app_key, config.app_secret) if s]
        if self._tokens is not None:
            known.extend(self._tokens.secrets())
        return tuple(s for s in known if s)

    def _current(self) -> Tokens:
        if self._tokens is None:
            self._tokens = read_tokens(self._config.token_file)
        return self._tokens

    def access_token(self, sender: RetryingSender) -> str:
        """A valid access token, refreshed first if it expires within the margin."""
        tokens = self._current()
        if self._clock() >= tokens.expires_at - self._config.refresh_margin_seconds:
            tokens = self.refresh(sender)
        return tokens.access_token.get_secret_value()

    def refresh(self, sender: RetryingSender) -> Tokens:
        """Trade the refresh token for a new access token and rewrite the token file."""
        config = self._config
        tokens = self._current()
        url = f"{config.base_url}{TOKEN_PATH}"
        what = f"POST {url} (refresh)"
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token.get_secret_value(),
        }
        auth = _basic_auth(config)
        log.info("refreshing the Schwab access token")
        response = sender.send(
            lambda: sender.http.build_request(
                "POST", url, data=form, headers={"Authorization": auth}
            ),
            what,
        )
        if response.status_code in (400, 401, 403):
            raise DataError(
                f"{what}: Schwab refused the refresh token of {config.token_file} "
                f"(HTTP {response.status_code}; it lasts 7 days from login); {LOGIN_HINT}"
            )
        if not response.is_success:
            raise DataError(
                f"{what}: Schwab answered HTTP {response.status_code}: "
                f"{excerpt(response, self.redact)}"
            )
        self._tokens = _parse_token_answer(response, tokens, self._clock(), what)
        write_tokens(config.token_file, self._tokens)
        return self._tokens

    def redact(self, text: str) -> str:
        for secret in self.secrets():
            text = text.replace(secret, "**********")
        return text


def authorize_url(config: SchwabDataConfig, callback_url: str) -> str:
    """The page where the user signs in to Schwab and approves this app."""
    key, _ = credentials(config)
    query = urlencode({"client_id": key, "redirect_uri": callback_url})
    return f"{config.base_url}{AUTHORIZE_PATH}?{query}"


def _code_from(redirect_url_or_code: str) -> str:
    text = redirect_url_or_code.strip()
    if "?" in text or "code=" in text or "error=" in text:
        query = parse_qs(urlsplit(text).query if "?" in text else text)
        if "error" in query:
            raise DataError(f"Schwab's sign-in answered error={query['error'][0]!r}")
        codes = query.get("code")
        if not codes or not codes[0]:
            raise DataError("the redirect URL has no code= parameter: paste the whole address")
        return codes[0]
    if not text:
        raise DataError("no authorization code given")
    return unquote(text)  # a code copied from the address bar still has %40 for its "@"


def complete_login(
    config: SchwabDataConfig,
    redirect_url_or_code: str,
    callback_url: str,
    *,
    clock: Clock | None = None,
) -> None:
    """Trade the code of Schwab's redirect for tokens and write the token file."""
    now = (clock or time.time)()
    code = _code_from(redirect_url_or_code)
    url = f"{config.base_url}{TOKEN_PATH}"
    what = f"POST {url} (login)"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url}
    headers = {"Authorization": _basic_auth(config)}
    try:
        with httpx.Client(timeout=config.timeout_seconds) as http:
            response = http.post(url, data=form, headers=headers)
    except httpx.TransportError as exc:
        raise DataError(f"{what}: cannot reach Schwab ({type(exc).__name__})") from None
    if not response.is_success:
        raise DataError(
            f"{what}: Schwab refused the sign-in (HTTP {response.status_code}); a code is "
            "valid once and for about 30 seconds: run `qtrader data login` again"
        )
    tokens = _parse_token_answer(response, None, now, what)
    write_tokens(config.token_file, tokens)
    log.info("wrote Schwab tokens to %s", config.token_file)
