"""Parameter sweeps: a grid (or a random sample of it) over any config value, on a serial,
process-pool or Dask executor, into one result table; resumable."""

from qtrader.cli.sweep.executors import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    SweepExecutor,
    make_executor,
)
from qtrader.cli.sweep.grid import Axis, Constraint, SweepError, combinations, parse_axis, sample
from qtrader.cli.sweep.runs import RunRecord, run_id
from qtrader.cli.sweep.sweep import SweepResult, SweepSpec, run_sweep

__all__ = [
    "Axis",
    "Constraint",
    "DaskExecutor",
    "ProcessExecutor",
    "RunRecord",
    "SerialExecutor",
    "SweepError",
    "SweepExecutor",
    "SweepResult",
    "SweepSpec",
    "combinations",
    "make_executor",
    "parse_axis",
    "run_id",
    "run_sweep",
    "sample",
]
