"""`qtrader --help` stays fast: the command module loads no numeric or data library;
`qtrader --version` names the version of every distribution."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from typer.testing import CliRunner

from qtrader.cli.main import app


def test_the_command_module_imports_neither_numpy_nor_pandas() -> None:
    probe = (
        "import sys, qtrader.cli.main; "
        "heavy = sorted(m for m in ('numpy', 'pandas', 'pyarrow', 'httpx', 'pydantic') "
        "if m in sys.modules); print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_version_names_each_distribution_installed_and_runs_nothing_else() -> None:
    names = [
        "qtrader-models", "qtrader-data", "qtrader-portfolio", "qtrader-execution",
        "qtrader-risk", "qtrader-engine", "qtrader-analytics", "qtrader-cli",
    ]  # fmt: skip
    done = CliRunner().invoke(app, ["--version", "backtest", "missing.yaml"])
    assert done.exit_code == 0
    assert done.output.splitlines() == [f"{name} {version(name)}" for name in names]
