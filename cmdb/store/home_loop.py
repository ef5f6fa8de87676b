"""Store calls from any event loop, for an adapter whose connections belong to one.

The Neo4j async driver's connections belong to the event loop that opened it; the
server runs heavy requests on worker loops (``cmdb.api.web.offload``). :func:`on_home_loop`
makes every public coroutine method of an adapter class, called from another loop,
run on the loop the store was opened on and hand its result back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any

Method = Callable[..., Coroutine[Any, Any, Any]]


def on_home_loop(cls: type[Any], loop_attr: str, exclude: set[str]) -> None:
    """Wrap the public coroutine methods of ``cls`` (but ``exclude``): called from a loop
    other than ``getattr(self, loop_attr)``, they run there instead."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or name in exclude or not inspect.iscoroutinefunction(member):
            continue
        setattr(cls, name, _hop(member, loop_attr))


def _hop(method: Method, loop_attr: str) -> Method:
    @functools.wraps(method)
    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        home: asyncio.AbstractEventLoop | None = getattr(self, loop_attr, None)
        if home is None or home is asyncio.get_running_loop() or home.is_closed():
            return await method(self, *args, **kwargs)
        future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(
            method(self, *args, **kwargs), home)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    return call
