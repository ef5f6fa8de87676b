"""A CMDB written before the query box existed: opening it with this version makes its
CIs findable (SQLite: the migration fills the keys; Neo4j: the open fills the derived
properties), on the real stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.registry import Registry
from cmdb.model.search import parse_search
from cmdb.store.base import Store
from cmdb.store.neo4j.store import Neo4jStore
from cmdb.store.sqlite import store as sqlite_module
from cmdb.store.sqlite.schema import MIGRATIONS
from cmdb.store.sqlite.store import SqliteStore
from tests.store.test_contract import add, ci
from tests.support.neo4j_server import Neo4jServer

BEFORE = ci("北京财务数据库服务器", asset_tag="ZC-2024-0012",
            attributes={"ip_addresses": ["10.20.1.15"], "mac_addresses": ["00:1a:2b:3c:4d:5e"],
                        "hostnames": ["bj-fin-db01"]})


async def found(store: Store, query: str) -> list[str]:
    page = await store.list_cis(CISelection(search=parse_search(query)), CIOrder(), 10, None)
    return [c.name for c in page.items]


async def test_sqlite_migration_fills_the_keys_of_existing_cis(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.sqlite3"
    with monkeypatch.context() as m:
        m.setattr(sqlite_module, "MIGRATIONS", MIGRATIONS[:2])
        old = SqliteStore(path)
        await old.open()
        await add(old, BEFORE)
        await old.close()
    store = SqliteStore(path)
    await store.open()
    try:
        for query in ("10.20.1.15", "00-1A-2B-3C-4D-5E", "fin-db", "财务", "zc-2024"):
            assert await found(store, query) == [BEFORE.name], query
    finally:
        await store.close()


@pytest.mark.neo4j
async def test_neo4j_open_fills_the_search_properties_of_existing_cis(
        neo4j_server: Neo4jServer, registry: Registry) -> None:
    def open_store() -> Neo4jStore:
        return Neo4jStore(neo4j_server.uri, neo4j_server.auth,
                          sorted(registry.relationship_types))

    store = open_store()
    await store.open()
    await store.wipe()
    await add(store, BEFORE)
    # What an earlier version wrote: the CI without the derived properties.
    await store.driver.execute_query(
        "MATCH (n:CI) REMOVE n.search_text, n.search_keys")
    assert await found(store, "10.20.1.15") == []
    await store.close()
    store = open_store()
    await store.open()
    try:
        for query in ("10.20.1.15", "001a.2b3c.4d5e", "fin-db", "财务", "zc-2024"):
            assert await found(store, query) == [BEFORE.name], query
    finally:
        await store.wipe()
        await store.close()
