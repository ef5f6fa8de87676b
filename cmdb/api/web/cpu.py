"""CPU-heavy work of a request in worker processes, so the server's threads keep the GIL.

A thread takes work off the event loop, but not off the interpreter: C code in the
libraries that draw PDFs (fontTools reading and subsetting a CJK font, ~35 ms at a
time) holds the GIL, and every other request of the server waits for it. Campaign
reports are built, and file imports run, in separate processes instead (two, started
when the server starts and kept, at a lower CPU priority than the server); arguments
and results travel pickled. Where no process can be started, the work runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")
log = logging.getLogger("cmdb.api")

WORKERS = 2
"""Reports and imports at once; more wait their turn."""
_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor | None:
    global _pool
    with _lock:
        if _pool is None:
            try:
                # spawn: the server has threads, and a forked child would inherit their
                # locks in whatever state they were
                _pool = ProcessPoolExecutor(max_workers=WORKERS,
                                            mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_start_worker,
                                            initargs=(os.getpid(),))
            except OSError as exc:  # no processes allowed here: threads will do
                log.warning("no worker process for reports (%s); using a thread", exc)
                return None
        return _pool


async def run_cpu(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``fn(*args)`` in the worker process (``fn`` importable, arguments picklable)."""
    pool = _executor()
    if pool is not None:
        try:
            # Submitted from a thread: submitting may start the process, which takes a
            # while and must not happen on the event loop.
            future = await asyncio.to_thread(pool.submit, _call, fn, args, kwargs)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            _reset()
    return await asyncio.to_thread(fn, *args, **kwargs)


def warm_up() -> None:
    """Start the worker process and load the report code in it now (from a thread at
    server start), so the first report does not pay for it."""
    pool = _executor()
    if pool is not None:
        try:
            pool.submit(_load_reports).result(timeout=120)
        except Exception as exc:  # warming is an optimisation; a failure shows on use
            log.warning("could not warm the report worker: %s", exc)


def _load_reports() -> None:
    import cmdb.api.web.import_worker
    import cmdb.services.audit.report  # noqa: F401 - imported for its import cost


def _start_worker(parent: int) -> None:
    """In each worker: yield the CPU to the server (on a busy machine, requests come
    first), and end when the server does, however it ended (``kill -9`` included: the
    workers hold the queue's pipes themselves, so they would never see it close)."""
    with contextlib.suppress(OSError):  # not allowed here: the same priority, then
        os.nice(10)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="cmdb-worker-watchdog", daemon=True).start()


def _call(fn: Callable[..., T], args: tuple[object, ...], kwargs: dict[str, object]) -> T:
    return fn(*args, **kwargs)


def _reset() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None
