"""`qtrader --help` stays fast: the command module loads no numeric or data library."""

from __future__ import annotations

import subprocess
import sys


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
