"""Find a strategy class by built-in name, ``package.module:Class`` or ``path/file.py:Class``."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from qtrader.cli.config import BOOL_AS_NUMBER, bool_misreads
from qtrader.cli.envvars import dotted
from qtrader.cli.strategies.bollinger_mean_reversion import BollingerMeanReversion
from qtrader.cli.strategies.buy_and_hold import BuyAndHold
from qtrader.cli.strategies.monthly_rebalance import MonthlyRebalance
from qtrader.cli.strategies.sma_crossover import SmaCrossover
from qtrader.engine import where_in
from qtrader.models import QTraderError, Strategy

BUILT_IN: Mapping[str, type[Any]] = {
    "bollinger_mean_reversion": BollingerMeanReversion,
    "buy_and_hold": BuyAndHold,
    "monthly_rebalance": MonthlyRebalance,
    "sma_crossover": SmaCrossover,
}


class StrategyLoadError(QTraderError):
    """The strategy reference or its parameters are wrong."""


def _resolve(reference: str, base_dir: Path) -> type[Any]:
    if reference in BUILT_IN:
        return BUILT_IN[reference]
    if ":" not in reference:
        raise StrategyLoadError(
            f"unknown strategy {reference!r}: expected a built-in name "
            f"({', '.join(sorted(BUILT_IN))}), 'package.module:Class' or 'path/file.py:Class'"
        )
    where, _, name = reference.rpartition(":")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_absolute():
            path = base_dir / path
        if not path.is_file():
            raise StrategyLoadError(f"strategy file {path} does not exist")
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        module_name = f"qtrader_user_strategy_{path.stem}_{digest}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:  # pragma: no cover - defensive
            raise StrategyLoadError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            del sys.modules[module_name]
            raise StrategyLoadError(
                f"strategy file {path}, line {exc.lineno}: syntax error: {exc.msg}"
            ) from exc
        except Exception as exc:  # the file's own code failed while it was imported
            del sys.modules[module_name]
            line = traceback.extract_tb(exc.__traceback__)
            at = next((f.lineno for f in reversed(line) if f.filename == str(path)), None)
            where = f", line {at}" if at is not None else ""
            raise StrategyLoadError(
                f"strategy file {path}{where}: importing it raised {type(exc).__name__}: {exc}"
            ) from exc
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as exc:
            raise StrategyLoadError(f"cannot import module {where!r}: {exc}") from exc
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        raise StrategyLoadError(f"{where!r} has no class {name!r}")
    return cls


def _refuse_bool_misreads(
    named: str, key: str, params: Mapping[str, Any], validated: object
) -> None:
    misread = bool_misreads(dict(params), validated, tuple(key.split(".")))
    if misread:
        problems = "; ".join(f"{dotted(path)}: {BOOL_AS_NUMBER}" for path in misread)
        raise StrategyLoadError(f"{named}: {problems}")


def load_strategy(
    reference: str,
    params: Mapping[str, Any],
    base_dir: Path,
    *,
    strategy_id: str | None = None,
    key: str = "strategy.params",
) -> Strategy:
    """Instantiate a strategy. A class with a ``Params`` pydantic model gets its params
    validated by it; any other class is called with the params as keyword arguments.
    Errors name ``strategy_id`` (when it is not the reference itself) and the params as
    ``key`` (``strategies.1.params`` for the second of a list)."""
    named = f"strategy {reference!r}"
    if strategy_id is not None and strategy_id != reference:
        named = f"strategy {strategy_id!r} ({reference})"
    cls = _resolve(reference, base_dir)
    params_model = getattr(cls, "Params", None)
    modelled = isinstance(params_model, type) and issubclass(params_model, BaseModel)
    if not modelled:
        try:  # params the class does not take, before running any of its code
            inspect.signature(cls).bind(**params)
        except TypeError as exc:
            raise StrategyLoadError(f"{named}: bad params: {exc}") from exc
        except ValueError:  # pragma: no cover - a class without a signature: just call it
            pass
    try:
        if modelled:
            assert params_model is not None
            validated = params_model.model_validate(dict(params))
            _refuse_bool_misreads(named, key, params, validated)
            strategy = cls(validated)
        else:
            strategy = cls(**params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join([key, *(str(p) for p in err['loc'])])}: {err['msg']}"
            for err in exc.errors()
        )
        raise StrategyLoadError(f"{named}: {problems}") from exc
    except StrategyLoadError:
        raise
    except Exception as exc:  # the strategy's own code failed: say where
        where = where_in(cls, exc)
        raise StrategyLoadError(
            f"{named} ({cls.__qualname__}) raised {type(exc).__name__} in "
            f"__init__: {exc}{f' ({where})' if where else ''}"
        ) from exc
    if not isinstance(strategy, Strategy):
        raise StrategyLoadError(
            f"{reference!r} is not a strategy: it needs on_start, on_bar, on_fill and on_end "
            "(derive from qtrader.models.BaseStrategy)"
        )
    return strategy
