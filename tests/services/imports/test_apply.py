"""An applied run writes against the CIs as reconciliation compared them: a CI changed or
moved by someone else while the file was being read fails the whole run, and nothing of
it is written (on both stores)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from cmdb.errors import CmdbError, ConflictError, VersionConflictError
from cmdb.model.queries import CISelection
from cmdb.model.records import Actor
from cmdb.services import Cmdb
from cmdb.services.imports.service import ImportRequest
from cmdb.settings import Settings
from cmdb.store.base import Store
from cmdb.store.neo4j.store import Neo4jStore
from cmdb.store.sqlite.store import SqliteStore
from tests.services.imports.test_imports import by_tag, run_gbk

HEADER = "资产编号,名称,类别,型号,位置\n"
Change = Callable[[Cmdb], Awaitable[Any]]


def twin(store: Store) -> Store:
    """Another connection to the same database: someone else's."""
    if isinstance(store, SqliteStore):
        return SqliteStore(store.path)
    assert isinstance(store, Neo4jStore)
    return Neo4jStore(store.uri, store.auth, store.rel_types, store.database)


def meanwhile(cmdb: Cmdb, change: Change) -> None:
    """Make ``change`` through another connection, on a thread of its own, now."""
    async def work() -> None:
        other = Cmdb.build(Settings(), store=twin(cmdb.store), registry=cmdb.registry)
        await other.store.open()
        try:
            await change(other)
        finally:
            await other.store.close()

    thread = threading.Thread(target=asyncio.run, args=(work(),))
    thread.start()
    thread.join()


async def apply_while(cmdb: Cmdb, sheet: Path, change: Change,
                      error: type[CmdbError]) -> str:
    """Apply ``sheet`` with ``change`` made after the file was read and reconciled (the
    progress report of its one chunk) and before it is written; the run must fail with
    ``error``. Returns the run's id."""
    request = ImportRequest("csv", sheet, create_places=True)
    with pytest.raises(error) as caught:
        await cmdb.imports.run("importer", request, lambda _: meanwhile(cmdb, change))
    [run] = (await cmdb.imports.runs(first=1))[0]
    assert (run.status, run.error.code if run.error else None) == ("rejected", caught.value.code)
    return run.id


async def nothing_written(cmdb: Cmdb, run_id: str, places: int) -> None:
    assert (await cmdb.store.history(run_id=run_id)).items == []
    assert (await by_tag(cmdb, "BJ-0001")).attributes["model"] == "LaserJet M404n"
    count = await cmdb.store.count_cis(CISelection(classes=("Site", "Room", "Rack")))
    assert count == places


async def test_a_ci_changed_meanwhile_fails_the_run(cmdb: Cmdb, actor: Actor,
                                                    tmp_path: Path) -> None:
    await run_gbk(cmdb)
    places = await cmdb.store.count_cis(CISelection(classes=("Site", "Room", "Rack")))
    sheet = tmp_path / "models.csv"
    sheet.write_text(HEADER + "BJ-0001,财务部打印机,打印机,M405,北京总部/3楼机房/A09机柜\n"
                     "BJ-0002,研发服务器,服务器,RH5885,北京总部/3楼机房/A02机柜\n",
                     encoding="utf-8")
    server = await by_tag(cmdb, "BJ-0002")

    async def edit(other: Cmdb) -> None:
        await other.cis.update(actor, server.id, server.version, {"name": "改过的名字"})

    run_id = await apply_while(cmdb, sheet, edit, VersionConflictError)
    await nothing_written(cmdb, run_id, places)
    assert (await by_tag(cmdb, "BJ-0002")).name == "改过的名字"


async def test_a_ci_moved_meanwhile_fails_the_run(cmdb: Cmdb, actor: Actor,
                                                  tmp_path: Path) -> None:
    await run_gbk(cmdb)
    places = await cmdb.store.count_cis(CISelection(classes=("Site", "Room", "Rack")))
    sheet = tmp_path / "moves.csv"
    sheet.write_text(HEADER + "BJ-0001,财务部打印机,打印机,M405,北京总部/3楼机房/A01机柜\n"
                     "BJ-0002,研发服务器,服务器,RH2288H V5,北京总部/3楼机房/A01机柜\n",
                     encoding="utf-8")
    server, printer = await by_tag(cmdb, "BJ-0002"), await by_tag(cmdb, "BJ-0001")
    [rack] = (await cmdb.store.relationships_of([printer.id], "out", ["LOCATED_IN"]))[printer.id]
    [room] = (await cmdb.store.relationships_of([rack.target_id], "out", ["LOCATED_IN"])
              )[rack.target_id]

    async def move(other: Cmdb) -> None:  # a move makes no new version of the CI itself
        await other.cis.update(actor, server.id, server.version,
                               {"location_id": room.target_id})

    run_id = await apply_while(cmdb, sheet, move, ConflictError)
    await nothing_written(cmdb, run_id, places)
    moved = await by_tag(cmdb, "BJ-0002")
    assert moved.version == server.version
    where = (await cmdb.store.relationships_of([moved.id], "out", ["LOCATED_IN"]))[moved.id]
    assert [r.target_id for r in where] == [room.target_id]
