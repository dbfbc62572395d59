"""Schwab OAuth: token files (ours and schwab-py's), atomic 0600 rewrites, the login flow,
and secrets that never show in a message or a repr. The token endpoint is a real HTTP
server on loopback (pytest-httpserver)."""

from __future__ import annotations

import base64
import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from qtrader.data import DataError
from qtrader.data.schwab import SchwabDataConfig, authorize_url, complete_login
from qtrader.data.schwab import _auth as auth_module
from qtrader.data.schwab._auth import TokenKeeper, Tokens, read_tokens, write_tokens

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
KEY, SECRET = "KEY-SECRET-k3y", "APP-SECRET-s3cr3t"
ACCESS, REFRESH = "ACCESS-SECRET-1", "REFRESH-SECRET-r"
SECRETS = (KEY, SECRET, ACCESS, REFRESH, "ACCESS-SECRET-2", "ID-SECRET")


def config(
    tmp_path: Path, base_url: str = "https://api.schwabapi.com", **more: Any
) -> SchwabDataConfig:
    return SchwabDataConfig.model_validate(
        {
            "base_url": base_url,
            "token_file": tmp_path / "tokens" / "schwab-token.json",
            "app_key": KEY,
            "app_secret": SECRET,
            "cache": tmp_path / "cache",
            **more,
        }
    )


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_reads_our_token_file(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps({"access_token": ACCESS, "refresh_token": REFRESH, "expires_at": 1700000900})
    )
    tokens = read_tokens(path)
    assert tokens.access_token.get_secret_value() == ACCESS
    assert tokens.refresh_token.get_secret_value() == REFRESH
    assert tokens.expires_at == 1700000900.0
    assert tokens.envelope is None
    assert_no_secret(repr(tokens))


def test_reads_schwab_py_token_file_with_or_without_expires_at(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    token = {
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "expires_in": 1800,
        "token_type": "Bearer",
        "scope": "api",
        "id_token": "ID-SECRET",
        "expires_at": 1700000900,
    }
    path.write_text(json.dumps({"creation_timestamp": 1699990000, "token": token}))
    tokens = read_tokens(path)
    assert (tokens.access_token.get_secret_value(), tokens.expires_at) == (ACCESS, 1700000900.0)
    assert tokens.envelope is not None
    assert tokens.envelope["creation_timestamp"] == 1699990000
    assert_no_secret(repr(tokens))  # the envelope holds the id_token: not in the repr
    del token["expires_at"]
    path.write_text(json.dumps({"creation_timestamp": 1699990000, "token": token}))
    # Only expires_in, relative to an unknown moment: taken as expired (0).
    assert read_tokens(path).expires_at == 0.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no Schwab token file; run `qtrader data login`"),
        ('{"access_token": "ACCESS-SECRET-1", "refr', "unreadable Schwab token file"),
        (b"\xff\xfe", "unreadable Schwab token file"),
        ('["ACCESS-SECRET-1"]', "not a JSON object"),
        ('{"access_token": "ACCESS-SECRET-1", "expires_at": 1}', "lacks access_token or refresh"),
        ('{"access_token": "ACCESS-SECRET-1", "refresh_token": ""}', "lacks access_token or"),
    ],
)
def test_a_bad_token_file_says_to_log_in_and_never_shows_its_content(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "t.json"
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_tokens(path)
    assert info.value.path == path
    assert "qtrader data login" in str(info.value)
    assert_no_secret(str(info.value))


def test_write_is_atomic_mode_0600_and_keeps_schwab_py_layout(tmp_path: Path) -> None:
    path = tmp_path / "new" / "t.json"
    envelope = {
        "creation_timestamp": 1699990000,
        "token": {"access_token": "old", "refresh_token": "old", "scope": "api"},
    }
    write_tokens(path, Tokens(SecretStr(ACCESS), SecretStr(REFRESH), 1700001800.0, envelope))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {
        "creation_timestamp": 1699990000,
        "token": {
            "access_token": ACCESS,
            "refresh_token": REFRESH,
            "scope": "api",
            "expires_at": 1700001800.0,
        },
    }
    write_tokens(path, Tokens(SecretStr(ACCESS), SecretStr(REFRESH), 1700001800.0))
    assert json.loads(path.read_text()) == {
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "expires_at": 1700001800.0,
    }
    assert [p.name for p in path.parent.iterdir()] == ["t.json"]


def test_an_interrupted_token_write_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.json"
    write_tokens(path, Tokens(SecretStr(ACCESS), SecretStr(REFRESH), 1.0))
    before = path.read_text()

    def fail(document: Any, file: Any, **kwargs: Any) -> None:
        file.write('{"access_token": ')
        raise OSError("disk full")

    monkeypatch.setattr(auth_module.json, "dump", fail)
    with pytest.raises(OSError, match="disk full"):
        write_tokens(path, Tokens(SecretStr("new"), SecretStr("new"), 2.0))
    monkeypatch.undo()
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_secrets_are_hidden_in_the_config_repr_and_dump(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert_no_secret(repr(cfg))
    assert_no_secret(json.dumps(cfg.model_dump(mode="json")))
    # "${SCHWAB_APP_KEY:-}" substitutes "": the same as not given.
    assert config(tmp_path, app_key="  ").app_key is None


def test_authorize_url_names_the_app_and_the_callback(tmp_path: Path) -> None:
    # client_id and redirect_uri are URL-encoded (":" -> %3A, "/" -> %2F).
    assert authorize_url(config(tmp_path), "https://127.0.0.1:8182/callback") == (
        "https://api.schwabapi.com/v1/oauth/authorize?client_id=KEY-SECRET-k3y"
        "&redirect_uri=https%3A%2F%2F127.0.0.1%3A8182%2Fcallback"
    )


def test_without_app_key_a_login_cannot_start(tmp_path: Path) -> None:
    cfg = SchwabDataConfig.model_validate({"token_file": tmp_path / "t.json"})
    with pytest.raises(DataError, match=r"app_key and app_secret are needed"):
        authorize_url(cfg, "https://127.0.0.1:8182")


class TokenEndpoint:
    """Schwab's POST /v1/oauth/token for an authorization code."""

    def __init__(self, server: HTTPServer, status: int = 200) -> None:
        self.forms: list[dict[str, str]] = []
        self.auth: list[str | None] = []
        self.status = status
        server.expect_request("/v1/oauth/token", method="POST").respond_with_handler(self)

    def __call__(self, request: Request) -> Response:
        self.forms.append(dict(request.form))
        self.auth.append(request.headers.get("Authorization"))
        if self.status != 200:
            return Response('{"error": "invalid_grant"}', status=self.status)
        body = {
            "access_token": ACCESS,
            "refresh_token": REFRESH,
            "expires_in": 1800,
            "token_type": "Bearer",
            "scope": "api",
            "id_token": "ID-SECRET",
        }
        return Response(json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "pasted",
    [
        "https://127.0.0.1:8182/?code=C0.b2F1dGg%40&session=abc",  # the whole redirect
        "C0.b2F1dGg%40",  # the code as the address bar shows it
        "C0.b2F1dGg@",
        "code=C0.b2F1dGg%40&session=abc",
    ],
)
def test_complete_login_trades_the_code_for_tokens_on_loopback(
    tmp_path: Path, httpserver: HTTPServer, pasted: str
) -> None:
    endpoint = TokenEndpoint(httpserver)
    cfg = config(tmp_path, base_url=httpserver.url_for("/"))
    complete_login(cfg, pasted, "https://127.0.0.1:8182", clock=lambda: NOW)
    assert endpoint.forms == [
        {
            "grant_type": "authorization_code",
            "code": "C0.b2F1dGg@",
            "redirect_uri": "https://127.0.0.1:8182",
        }
    ]
    assert endpoint.auth == ["Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()]
    path = cfg.token_file
    # expires_at = NOW + expires_in = 1_700_000_000 + 1800.
    assert json.loads(path.read_text()) == {
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "expires_at": 1700001800.0,
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("https://127.0.0.1:8182/?error=access_denied", "error='access_denied'"),
        ("https://127.0.0.1:8182/?session=abc", "has no code= parameter"),
        ("   ", "no authorization code given"),
    ],
)
def test_a_redirect_without_a_code_is_refused(tmp_path: Path, pasted: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        complete_login(config(tmp_path), pasted, "https://127.0.0.1:8182")


def test_a_refused_login_says_to_try_again_without_showing_secrets(
    tmp_path: Path, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    TokenEndpoint(httpserver, status=400)
    cfg = config(tmp_path, base_url=httpserver.url_for("/"))
    with pytest.raises(DataError, match=r"refused the sign-in \(HTTP 400\).*qtrader data login"):
        complete_login(cfg, "CODE-SECRET", "https://127.0.0.1:8182")
    assert not cfg.token_file.exists()
    assert "CODE-SECRET" not in caplog.text


def test_a_login_that_cannot_connect_is_a_data_error(tmp_path: Path) -> None:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    url = server.url_for("/")
    server.stop()  # nothing listens on that port any more
    with pytest.raises(DataError, match=r"cannot reach Schwab \(ConnectError\)"):
        complete_login(config(tmp_path, base_url=url), "C", "https://127.0.0.1:8182")


def test_a_malformed_token_answer_is_a_data_error(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/oauth/token").respond_with_data("<html>", status=200)
    with pytest.raises(DataError, match="token answer is not a JSON object"):
        complete_login(config(tmp_path, base_url=httpserver.url_for("/")), "C", "https://x")
    httpserver.clear()
    httpserver.expect_request("/v1/oauth/token").respond_with_json({"access_token": ACCESS})
    with pytest.raises(DataError, match="lacks access_token, refresh_token or expires_in") as info:
        complete_login(config(tmp_path, base_url=httpserver.url_for("/")), "C", "https://x")
    assert_no_secret(str(info.value))


def test_redaction_hides_the_app_secrets_before_any_token_is_read(tmp_path: Path) -> None:
    keeper = TokenKeeper(config(tmp_path), clock=lambda: NOW)
    assert keeper.redact(f"key {KEY} secret {SECRET} ok") == "key ********** secret ********** ok"
    assert_no_secret(repr(keeper))
