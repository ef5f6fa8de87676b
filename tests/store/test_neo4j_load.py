"""Bulk loads into Neo4j: bounded transaction memory, and a load stopped part-way resumes.

A server of its own, whose transactions may each use at most ``TX_LIMIT``: the dump of a
3,000-CI estate (with a history entry per CI) needs more than that in one transaction,
and each of the load's batches needs less.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bench.generate import build_estate, load
from cmdb.api.app import create_app
from cmdb.errors import IncompleteLoadError, LimitExceededError, ValidationError
from cmdb.model.queries import CISelection
from cmdb.model.records import CI, Channel, EntityKind, HistoryAction, HistoryEntry
from cmdb.model.registry import Registry
from cmdb.services.backup.service import backup, check_dump, dump_records, restore
from cmdb.settings import Settings
from cmdb.store.base import LoadKind, Store, StoreTx
from cmdb.store.neo4j.store import Neo4jStore
from cmdb.store.sqlite.store import SqliteStore
from tests.support.neo4j_server import Neo4jServer

pytestmark = pytest.mark.neo4j

TX_LIMIT = "40m"
CIS = 3000


@pytest.fixture(scope="module")
def capped() -> Iterator[Neo4jServer]:
    server = Neo4jServer(heap="384m", use_env=False,
                         extra_conf={"db.memory.transaction.max": TX_LIMIT})
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A dump of a generated estate, and its text without the header line."""
    path = tmp_path_factory.mktemp("dump") / "estate.jsonl"
    asyncio.run(write_estate_dump(path))
    return path, path.read_text(encoding="utf-8").split("\n", 1)[1]


async def write_estate_dump(path: Path) -> None:
    where = path.parent
    estate = build_estate(CIS)
    source = SqliteStore(where / "source.sqlite3")
    await source.open()
    await load(source, estate, progress=False)

    async def created(tx: StoreTx) -> None:
        await tx.add_history([HistoryEntry(actor="gen", channel=Channel.API,
                                           action=HistoryAction.CREATED,
                                           entity_kind=EntityKind.CI, entity_id=c.id,
                                           ci_id=c.id) for c in estate.cis])

    await source.write(created)
    with path.open("w", encoding="utf-8") as f:
        await backup(source, f, stamp="2026-01-01T00:00:00+00:00")
    await source.close()


@pytest.fixture
async def target(capped: Neo4jServer, registry: Registry) -> AsyncIterator[Neo4jStore]:
    store = Neo4jStore(capped.uri, capped.auth, sorted(registry.relationship_types),
                       timeout=3)
    await store.open()
    await store.wipe()
    try:
        yield store
    finally:
        await store.close()


async def dumped(store: Store) -> str:
    out = io.StringIO()
    await backup(store, out, stamp="2026-01-01T00:00:00+00:00")
    return out.getvalue().split("\n", 1)[1]


async def test_restore_stays_within_the_transaction_memory_limit(
    target: Neo4jStore, dump: tuple[Path, str]
) -> None:
    path, text = dump
    check = check_dump(path)
    # The control: the same records in one transaction are over the server's limit
    # (the store says so as LIMIT_EXCEEDED naming the setting).
    with pytest.raises(LimitExceededError, match=r"dbms\.memory\.transaction"):
        await Store.load(target, lambda skip, size: dump_records(path, skip, size),
                         dump_id=check.sha256)
    assert await target.count_cis(CISelection()) == 0

    counts = await restore(target, path)
    assert counts == check.counts
    assert counts["ci"] == CIS
    assert await target.incomplete_load() is None
    assert await dumped(target) == text


async def test_a_load_stopped_by_the_server_resumes_where_it_stopped(
    target: Neo4jStore, capped: Neo4jServer, dump: tuple[Path, str]
) -> None:
    """CIs (one batch), 5,000 relationships (a second batch), then the server stops."""
    path, text = dump
    check = check_dump(path)
    loaded = 0

    def stop_after_two_batches(n: int) -> None:
        nonlocal loaded
        loaded += n
        if loaded == CIS + 5000:
            capped.stop()

    with pytest.raises(IncompleteLoadError) as stopped:
        await restore(target, path, progress=stop_after_two_batches)
    assert stopped.value.done == CIS + 5000
    assert (f"stopped after 8,000 of {check.total:,} records" in stopped.value.message)
    assert ("run the same restore (or migrate) again to resume" in stopped.value.message)

    capped.start()
    assert await target.incomplete_load() == (check.sha256, CIS + 5000)
    assert await target.count_cis(CISelection()) == CIS
    resumed: list[int] = []
    assert await restore(target, path, progress=resumed.append) == check.counts
    assert resumed[0] == CIS + 5000  # the progress starts where the load stopped
    assert await target.incomplete_load() is None
    assert await dumped(target) == text


async def test_another_dump_replaces_an_incomplete_load(
    target: Neo4jStore, capped: Neo4jServer, dump: tuple[Path, str]
) -> None:
    """The server is not ready while the store holds an incomplete load."""
    path, _ = dump
    check = check_dump(path)
    with pytest.raises(IncompleteLoadError, match="the source went away"):
        await target.load(lambda skip, size: _fail_after_cis(path, skip, size),
                          dump_id="another dump")
    assert await target.incomplete_load() == ("another dump", CIS)
    app = create_app(Settings(store_url=capped.uri, store_user=capped.auth[0],
                              store_password=SecretStr(capped.auth[1])))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://cmdb") as client:
        loading = await client.get("/readyz")
        assert loading.status_code == 503
        assert loading.json()["code"] == "LOAD_INCOMPLETE"
        assert await restore(target, path) == check.counts
        assert (await client.get("/readyz")).status_code == 200
    assert await target.count_cis(CISelection()) == CIS


def _fail_after_cis(path: Path, skip: int, size: int
                    ) -> Iterator[tuple[LoadKind, Sequence[Any]]]:
    for kind, batch in dump_records(path, skip, size):
        if kind != "ci":
            raise ValidationError("the source went away")
        yield kind, batch


async def test_replace_starts_an_incomplete_load_over(target: Neo4jStore) -> None:
    """The same dump resumes; with ``replace`` it starts over (what came before is gone)."""
    rooms = [CI(class_name="Room", name=f"room {i}", state="deployed") for i in range(3)]

    def broken(skip: int, size: int) -> Iterator[tuple[LoadKind, Sequence[Any]]]:
        yield "ci", rooms[skip:]
        raise ValidationError("the dump went away")

    def whole(skip: int, size: int) -> Iterator[tuple[LoadKind, Sequence[Any]]]:
        yield "ci", rooms[skip:]

    with pytest.raises(IncompleteLoadError):
        await target.load(broken, dump_id="rooms")
    stray = CI(class_name="Room", name="stray", state="deployed")

    async def add(tx: StoreTx) -> None:
        await tx.insert_cis([stray])

    await target.write(add)
    await target.load(whole, dump_id="rooms", replace=True)
    assert sorted([c.name async for c in target.iter_all("cis")]) == [
        "room 0", "room 1", "room 2"]
    assert await target.incomplete_load() is None
