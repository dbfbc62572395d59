"""The qtrader command-line application: the composition root, and its Python API.

``run_backtest`` (see ``qtrader.cli.api``) is imported on first use, so that importing
``qtrader.cli`` for ``qtrader --help`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qtrader.cli.api import BacktestRun, run_backtest

__all__ = ["BacktestRun", "run_backtest"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from qtrader.cli import api  # noqa: PLC0415 - lazy: see the module doc

        return getattr(api, name)
    raise AttributeError(f"module 'qtrader.cli' has no attribute {name!r}")
