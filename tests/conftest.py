"""Shared fixtures: real stores (one contract, every adapter), the schema, a live server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cmdb.model.records import Actor, Channel
from cmdb.model.registry import Registry, load_registry
from cmdb.services import Cmdb
from cmdb.settings import Settings
from cmdb.store.base import Store
from cmdb.store.neo4j.store import Neo4jStore
from cmdb.store.sqlite.store import SqliteStore
from tests.support.neo4j_server import Neo4jServer

ADAPTERS = ["sqlite", "neo4j"]


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Neo4jServer]:
    """One real Neo4j 5 server for the session, started by the project (or CMDB_TEST_NEO4J_URI).

    If it cannot start, every Neo4j test fails with the reason: never a skip.
    """
    server = Neo4jServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest,
               registry: Registry) -> Store:
    if kind == "sqlite":
        return SqliteStore(tmp_path / "cmdb.sqlite3")
    if kind == "neo4j":
        server: Neo4jServer = request.getfixturevalue("neo4j_server")
        return Neo4jStore(server.uri, server.auth, sorted(registry.relationship_types))
    raise AssertionError(f"no such adapter {kind}")


@pytest.fixture(params=ADAPTERS)
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, registry: Registry
) -> AsyncIterator[Store]:
    """A fresh, empty, real store of each adapter kind."""
    s = make_store(request.param, tmp_path, request, registry)
    await s.open()
    await s.wipe()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def cmdb(store: Store, tmp_path: Path, registry: Registry) -> Cmdb:
    """The services over a fresh store of each adapter kind, in UTC (whatever this
    machine's zone: tests of other zones build their own)."""
    return Cmdb.build(Settings(time_zone="UTC"), store=store, registry=registry)


@pytest.fixture
def actor() -> Actor:
    return Actor(name="alice", channel=Channel.API)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many tests passed on each store, so CI shows both adapters ran."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for adapter in ADAPTERS:
                if f"[{adapter}" in nodeid or f"-{adapter}]" in nodeid or f"-{adapter}-" in nodeid:
                    counts.setdefault(adapter, {}).setdefault(outcome, 0)
                    counts[adapter][outcome] += 1
    if counts:
        terminalreporter.section("tests per store")
        for adapter in ADAPTERS:
            line = ", ".join(f"{n} {o}" for o, n in sorted(counts.get(adapter, {}).items()))
            terminalreporter.write_line(f"{adapter}: {line or 'none'}")
