"""File imports sent over HTTP, run in the server's worker process.

Parsing a workbook and planning thousands of records is seconds of Python: in a thread
of the server it would still share the interpreter with every other request (its GIL,
its garbage collector: a 20,000-row import made `/healthz` wait up to half a second
at each full collection), and its memory would be the server's. So the server hands
the saved upload to the worker process of ``cmdb.api.web.cpu``, which opens the same store
(as ``cmdb import`` does from a shell), runs the import, and returns the run; a refusal
comes back as the coded error it was.
"""

from __future__ import annotations

import asyncio

from cmdb.root import connect
from cmdb.services.imports.records import ImportRun
from cmdb.services.imports.service import ImportRequest
from cmdb.settings import Settings


def run_import(settings: Settings, who: str, request: ImportRequest) -> ImportRun:
    """Import ``request`` into the CMDB ``settings`` name (in the worker process)."""
    return asyncio.run(_run(settings, who, request))


async def _run(settings: Settings, who: str, request: ImportRequest) -> ImportRun:
    async with connect(settings, create=False) as cmdb:
        return await cmdb.imports.run(who, request)
