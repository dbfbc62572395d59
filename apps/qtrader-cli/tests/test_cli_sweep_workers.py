"""The workers of a process-pool sweep end with it, even when it is killed outright."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SWEEP = """
import os, sys, time
from pathlib import Path

from qtrader.cli.sweep.executors import ProcessExecutor


def pid_then_sleep(path):
    Path(path).write_text(str(os.getpid()))
    time.sleep(120)


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    pool = ProcessExecutor(2)
    list(pool.map_unordered(pid_then_sleep, [str(folder / "a"), str(folder / "b")]))
"""


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_workers_of_a_sweep_killed_outright_end(tmp_path: Path) -> None:
    # A kill -9 cannot shut the pool down: its workers, each waiting on a queue whose other
    # end it holds too, ran on for ever. They now notice their parent is gone.
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP)
    sweep = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    workers: list[int] = []
    try:
        files = [tmp_path / "a", tmp_path / "b"]
        assert wait_for(lambda: all(f.exists() and f.read_text() for f in files), 60)
        workers = [int(f.read_text()) for f in files]
        assert all(alive(pid) for pid in workers)
        sweep.kill()
        sweep.wait()
        assert wait_for(lambda: not any(alive(pid) for pid in workers), 10), workers
    finally:
        sweep.kill()
        sweep.wait()
        for pid in workers:  # never leave them behind, whatever the outcome
            if alive(pid):
                os.kill(pid, 9)
