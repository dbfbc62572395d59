"""Where the runs of a sweep execute, behind one port: in this process, in a local process
pool, or on a Dask cluster (an existing distributed engine, not a home-made one)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from typing import Any, Protocol, TypeVar

from qtrader.cli.sweep.grid import SweepError

T = TypeVar("T")
R = TypeVar("R")


class SweepExecutor(Protocol):
    """Runs ``fn`` on each item and yields the results as they complete (any order)."""

    name: str

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """One run after another in this process: for debugging (a breakpoint just works)."""

    name = "serial"

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)

    def close(self) -> None:
        return None


# How often a worker looks whether the sweep that started it is still there.
PARENT_CHECK_SECONDS = 0.5


def exit_with_parent(parent: int) -> None:
    """In a pool's worker: end this process once ``parent`` (the sweep) is gone. A sweep
    killed outright (``kill -9``) cannot shut its pool down, and its workers, waiting on a
    queue whose other end they hold too, would run on forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)  # the parent is gone: nothing is left to report to

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class ProcessExecutor:
    """A local pool of worker processes, all cores by default. Workers are started fresh
    (``spawn``), so each imports QTrader once and then keeps its data between runs."""

    name = "process"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=get_context("spawn"),
            initializer=exit_with_parent,
            initargs=(os.getpid(),),
        )

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        # At most two runs queued per worker: the rest are submitted as runs finish, so an
        # interrupted sweep has not handed the pool everything.
        pending: set[Future[R]] = set()
        queue = list(items)
        queue.reverse()  # pop() from the end takes them in order
        while queue and len(pending) < 2 * self.workers:
            pending.add(self._pool.submit(fn, queue.pop()))
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                if queue:
                    pending.add(self._pool.submit(fn, queue.pop()))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Dask distributed: ``scheduler`` is ``tcp://host:8786`` of a running cluster, or
    ``None`` to start a ``LocalCluster`` (processes, one per core) for the sweep. A run on
    a worker that dies is retried elsewhere by Dask, so every run is accounted for."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster  # noqa: PLC0415 - optional
        except ImportError as exc:
            raise SweepError(
                "--executor dask needs Dask: install qtrader-cli[dask] "
                "(uv sync --package qtrader-cli --extra dask)"
            ) from exc
        self._cluster: Any = None
        if scheduler is None:
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client: Any = Client(self._cluster)
        else:
            self._client = Client(scheduler)

    @property
    def client(self) -> Any:
        return self._client

    def map_unordered(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        from dask.distributed import as_completed  # noqa: PLC0415 - optional

        # pure=False: a run is not deduplicated by its arguments (it writes files).
        futures = [self._client.submit(fn, item, pure=False, retries=2) for item in items]
        for future in as_completed(futures):
            yield future.result()
            future.release()

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(
    name: str, workers: int | None = None, scheduler: str | None = None
) -> SweepExecutor:
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(scheduler, workers)
    raise SweepError(f"--executor {name!r}: expected serial, process or dask")
