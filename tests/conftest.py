"""Shared fixtures: real stores (one contract, every adapter), the schema, a live server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cmdb.model.records import Actor, Channel
from cmdb.model.registry import Registry, load_registry
from cmdb.services import Cmdb
from cmdb.settings import Settings
from cmdb.store.base import Store
from cmdb.store.sqlite import SqliteStore

ADAPTERS = ["sqlite"]


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


def make_store(kind: str, tmp_path: Path) -> Store:
    if kind == "sqlite":
        return SqliteStore(tmp_path / "cmdb.sqlite3")
    raise AssertionError(f"no such adapter {kind}")


@pytest.fixture(params=ADAPTERS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, empty, real store of each adapter kind."""
    s = make_store(request.param, tmp_path)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def cmdb(store: Store, tmp_path: Path, registry: Registry) -> Cmdb:
    """The services over a fresh store of each adapter kind."""
    return Cmdb.build(Settings(), store=store, registry=registry)


@pytest.fixture
def actor() -> Actor:
    return Actor(name="alice", channel=Channel.API)
