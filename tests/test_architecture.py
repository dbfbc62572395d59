"""The import contracts in .importlinter really bite.

Each test copies every distribution's sources into a scratch tree, makes one
forbidden import, and runs lint-imports against the repository's own
.importlinter on that tree: the matching contract must break. Run by the
nox session "imports", where every distribution and import-linter are installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("packages/*/src/qtrader"), *ROOT.glob("apps/*/src/qtrader")])


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    # The scratch tree comes first on sys.path, so its qtrader.* shadow the installed ones.
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
         "lint_imports_command()", "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for source in SOURCES:
        shutil.copytree(source, tmp_path / "qtrader", dirs_exist_ok=True)
    assert not (tmp_path / "qtrader" / "__init__.py").exists(), "qtrader must stay a namespace"
    return tmp_path


def add_import(tree: Path, module: str, statement: str) -> None:
    path = tree / Path(*module.split(".")).with_suffix(".py")
    path.write_text(path.read_text(encoding="utf-8") + f"\n{statement}\n", encoding="utf-8")


def test_the_real_tree_keeps_every_contract(tree: Path) -> None:
    run = lint_imports(tree)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 kept, 0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "statement", "broken"),
    [
        ("qtrader.data.__init__", "import qtrader.portfolio", "No service imports another"),
        ("qtrader.engine.engine", "import qtrader.execution", "No service imports another"),
        ("qtrader.risk.__init__", "from qtrader.engine import BacktestEngine", "No service"),
        ("qtrader.models.ports", "import qtrader.engine", "services build on models only"),
        ("qtrader.portfolio.__init__", "import qtrader.cli", "services build on models only"),
        ("qtrader.models.market", "import pandas", "Models are pure contracts"),
        ("qtrader.models.market", "import pathlib", "Models are pure contracts"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    tree: Path, module: str, statement: str, broken: str
) -> None:
    add_import(tree, module, statement)
    run = lint_imports(tree)
    assert run.returncode != 0
    broken_lines = [line for line in run.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(broken in line for line in broken_lines), run.stdout
