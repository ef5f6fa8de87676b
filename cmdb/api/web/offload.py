"""Heavy request work off the server's event loop, on worker threads with loops of their own.

The server's event loop accepts connections and answers every request; anything that
holds it (resolving 500 CIs with their fields, parsing an uploaded workbook, planning
an import) makes every other request wait, ``/healthz`` included. So the endpoints
hand such work to :class:`Offloader`: a few threads, each running an event loop,
where the work runs as a coroutine and may await stores, loaders and threads as
usual. The server's loop only waits for the result; Python switches threads every
``SWITCH_INTERVAL`` seconds, so it gets its turn within milliseconds.

Stores work from any loop: the SQLite adapter's connections live on threads of their
own; the Neo4j adapter hands each call to the loop its driver was opened on
(``cmdb.store.home_loop``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
WORKERS = 2
SWITCH_INTERVAL = 0.001
"""How long a thread may hold the GIL while another wants it (Python's default: 5 ms);
shorter keeps the server's loop answering while a worker or a thread computes (a report
PDF, a label sheet). Set once, when the app is built."""


class _Worker:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.pending = 0
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class Offloader:
    """Worker threads with event loops; :meth:`run` awaits a coroutine run on one."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._size = workers
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)

    def _started(self) -> list[_Worker]:
        with self._lock:
            if not self._workers:
                self._workers = [_Worker(f"cmdb-worker-{i}") for i in range(self._size)]
            return self._workers

    async def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """``await work()`` on the least busy worker's loop; a cancelled caller cancels
        the work too."""
        worker = min(self._started(), key=lambda w: w.pending)

        async def wrapped() -> T:
            return await work()

        worker.pending += 1
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            wrapped(), worker.loop)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise
        finally:
            worker.pending -= 1

    def close(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
