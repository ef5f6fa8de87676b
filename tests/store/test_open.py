"""Opening a store: only ``create=True`` makes a CMDB where there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import GraphDatabase

from cmdb.errors import NoCmdbError
from cmdb.model.registry import Registry
from cmdb.store.neo4j.store import Neo4jStore
from cmdb.store.sqlite.store import SqliteStore
from tests.support.neo4j_server import Neo4jServer


async def test_sqlite_without_create_makes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "cmdb.sqlite3"
    with pytest.raises(NoCmdbError, match=f"no CMDB at {path}"):
        await SqliteStore(path).open(create=False)
    assert not path.parent.exists()
    store = SqliteStore(path)
    await store.open(create=True)
    await store.close()
    await store.open(create=False)
    await store.close()


@pytest.mark.neo4j
async def test_neo4j_database_the_cmdb_never_set_up(neo4j_server: Neo4jServer,
                                                    registry: Registry) -> None:
    types = sorted(registry.relationship_types)
    with GraphDatabase.driver(neo4j_server.uri, auth=neo4j_server.auth) as driver:
        driver.execute_query("DROP CONSTRAINT ci_id IF EXISTS")
    try:
        with pytest.raises(NoCmdbError, match=f"no CMDB at {neo4j_server.uri}"):
            await Neo4jStore(neo4j_server.uri, neo4j_server.auth, types).open(create=False)
    finally:
        store = Neo4jStore(neo4j_server.uri, neo4j_server.auth, types)
        await store.open(create=True)
        await store.close()
    again = Neo4jStore(neo4j_server.uri, neo4j_server.auth, types)
    await again.open(create=False)
    await again.close()
