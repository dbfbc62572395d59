"""`qtrader data login`: the browser sign-in of a source, against a loopback server."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from qtrader.cli.main import app

runner = CliRunner()
SECRET = "s3cr3t-app-secret"
KEY = "app-key-123"


def schwab_config(folder: Path, base_url: str) -> Path:
    config = folder / "config.yaml"
    config.write_text(
        f"""
start: 2024-01-02
end: 2024-01-31
initial_cash: 1000
data:
  source: schwab
  symbols: [AAPL]
  base_url: {base_url}
  token_file: tokens/schwab.json
  app_key: ${{APP_KEY}}
  app_secret: ${{APP_SECRET}}
strategy: {{name: buy_and_hold}}
"""
    )
    return config


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_KEY", KEY)
    monkeypatch.setenv("APP_SECRET", SECRET)


@pytest.mark.usefixtures("secrets")
def test_login_trades_the_pasted_code_for_tokens(tmp_path: Path, httpserver: HTTPServer) -> None:
    seen: list[dict[str, str]] = []

    def token(request: Request) -> Response:
        seen.append(dict(request.form))
        answer = {"access_token": "AT-1", "refresh_token": "RT-1", "expires_in": 1800}
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request("/v1/oauth/token", method="POST").respond_with_handler(token)
    config = schwab_config(tmp_path, httpserver.url_for("").rstrip("/"))
    pasted = "https://127.0.0.1/?code=C0DE%40xyz&session=abc\n"
    result = runner.invoke(app, ["data", "login", str(config), "--show-url"], input=pasted)
    assert result.exit_code == 0, result.output
    # The address to open; the code from the pasted redirect (its %40 decoded to "@").
    assert f"/v1/oauth/authorize?client_id={KEY}&redirect_uri=https%3A%2F%2F127.0.0.1" in (
        result.output
    )
    assert seen == [
        {
            "grant_type": "authorization_code",
            "code": "C0DE@xyz",
            "redirect_uri": "https://127.0.0.1",
        }
    ]
    token_file = tmp_path / "tokens" / "schwab.json"
    assert json.loads(token_file.read_text())["refresh_token"] == "RT-1"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "signed in to schwab" in result.output
    for secret in (SECRET, "AT-1", "RT-1", "C0DE"):
        assert secret not in result.output


@pytest.mark.usefixtures("secrets")
def test_a_refused_sign_in_is_one_error_line_without_secrets(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/oauth/token", method="POST").respond_with_data(
        f"invalid_grant for {SECRET}", status=400
    )
    config = schwab_config(tmp_path, httpserver.url_for("").rstrip("/"))
    result = runner.invoke(app, ["data", "login", str(config), "--show-url"], input="CODE\n")
    assert result.exit_code == 2
    assert "refused the sign-in (HTTP 400)" in result.output
    assert SECRET not in result.output
    assert not (tmp_path / "tokens" / "schwab.json").exists()


@pytest.mark.usefixtures("secrets")
def test_without_a_browser_it_says_to_show_the_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    config = schwab_config(tmp_path, "http://127.0.0.1:9")
    result = runner.invoke(app, ["data", "login", str(config)])
    assert result.exit_code == 2
    assert "run again with --show-url" in result.output
    assert KEY not in result.output


def test_a_source_of_files_needs_no_login(tiny: Path) -> None:
    result = runner.invoke(app, ["data", "login", str(tiny / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert "nothing to sign in to: source 'csv' needs no login" in result.output


@pytest.mark.usefixtures("secrets")
def test_a_bad_data_block_names_the_key(tmp_path: Path) -> None:
    config = schwab_config(tmp_path, "http://127.0.0.1:9")
    config.write_text(config.read_text().replace("  symbols:", "  bogus: 1\n  symbols:"))
    result = runner.invoke(app, ["data", "login", str(config), "--show-url"])
    assert result.exit_code == 2
    assert "data.bogus: unknown key" in result.output
