"""SQLite work off the event loop: each connection lives on a thread of its own.

The ``sqlite3`` module blocks: a query runs until it is done, and ``BEGIN IMMEDIATE``
waits up to the busy timeout (10 s) while another process (a CLI import) writes the
same file. Run on the event loop, that freezes every request of the server. So:

- :class:`ConnectionThread` owns one connection, opened and used only on its thread;
  callers hand it a function of the connection and await the result. Jobs run one at
  a time, in order, and a job whose caller gave up still runs to its end (a unit of
  work commits or rolls back whole).
- :class:`ReaderPool` is a few reader connections; a read goes to the least busy one,
  so one long read does not hold up the others (``sqlite3`` releases the GIL while
  SQLite works).
- :func:`off_loop` moves every public ``async`` read of the store onto the pool: the
  adapter's methods stay plain SQLite code, whose coroutines never suspend, so
  :func:`drive` runs each to its end on the reader's thread.

A hop costs one queue put and one ``call_soon_threadsafe``: ~20 us on an idle machine
(see bench/README.md); batched store calls keep it to a few hops per request.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import queue
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from cmdb.errors import StoreUnavailableError
from cmdb.store.base import store_call

T = TypeVar("T")
Connect = Callable[[], sqlite3.Connection]
Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[sqlite3.Connection], Any]]


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (SQLite code written ``async`` for the store
    port) to its end, here and now."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coro.close()
    raise RuntimeError("a SQLite store call awaited something other than the store; a "
                       "unit of work may only talk to its transaction")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled; the job ran anyway
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class ConnectionThread:
    """One SQLite connection and the thread that alone uses it."""

    def __init__(self, connect: Connect, name: str,
                 local: threading.local | None = None) -> None:
        self._connect = connect
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._local = local
        self._ready: asyncio.Future[None] | None = None
        self.pending = 0

    async def start(self) -> None:
        """Open the connection on the thread; its error (a locked or bad file) is raised."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._loop = loop
        self._thread.start()
        await self._ready

    def _serve(self) -> None:
        assert self._ready is not None
        try:
            conn = self._connect()
        except BaseException as exc:  # reported to start(); the thread ends
            self._loop.call_soon_threadsafe(_settle, self._ready, None, exc)
            return
        if self._local is not None:
            self._local.conn = conn
        self._loop.call_soon_threadsafe(_settle, self._ready, None, None)
        try:
            while (job := self._jobs.get()) is not None:
                loop, future, fn = job
                try:
                    result = fn(conn)
                except BaseException as exc:
                    loop.call_soon_threadsafe(_settle, future, None, exc)
                else:
                    loop.call_soon_threadsafe(_settle, future, result, None)
                del job, loop, future, fn
        finally:
            conn.close()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(connection)`` on the connection's thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self.pending += 1
        self._jobs.put((loop, future, fn))
        try:
            return await future
        finally:
            self.pending -= 1

    async def stop(self) -> None:
        """Finish the queued jobs, close the connection, end the thread."""
        if not self._thread.is_alive():
            return
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)


class ReaderPool:
    """Reader connections, each on its thread; a read goes to the least busy one."""

    def __init__(self, connect: Connect, size: int, name: str,
                 local: threading.local) -> None:
        self._threads = [ConnectionThread(connect, f"sqlite-reader-{i} {name}", local)
                         for i in range(max(1, size))]

    async def start(self) -> None:
        try:
            for thread in self._threads:
                await thread.start()
        except BaseException:
            await self.stop()
            raise

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await min(self._threads, key=lambda t: t.pending).run(fn)

    async def stop(self) -> None:
        for thread in self._threads:
            await thread.stop()


def off_loop(cls: type[Any], loop_side: set[str]) -> None:
    """Make every public coroutine method of ``cls`` (but ``loop_side``) run on the
    instance's reader pool (``self._reader_pool``). A store call (``@counted`` or
    ``@timed``) is counted and timed here, on the caller's side."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or name in loop_side or not inspect.iscoroutinefunction(member):
            continue
        count: bool | None = getattr(member, "store_call_counted", None)
        body = member.__wrapped__ if count is not None else member
        setattr(cls, name, _on_reader(body, name, count))


def _on_reader(body: Callable[..., Coroutine[Any, Any, Any]], name: str,
               count: bool | None) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(body)
    async def read(self: Any, *args: Any, **kwargs: Any) -> Any:
        pool: ReaderPool | None = self._reader_pool
        if pool is None:
            raise StoreUnavailableError("the SQLite store is not open")
        call = pool.run(lambda _conn: drive(body(self, *args, **kwargs)))
        if count is None:
            return await call
        return await store_call(self, name, count, call)

    return read
