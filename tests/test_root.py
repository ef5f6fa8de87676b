"""The composition root (``cmdb.root``): settings choose the store, ``Cmdb`` opens and
closes it as an async context manager, and the core never picks an adapter itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cmdb.errors import NoCmdbError, StoreUnavailableError
from cmdb.root import connect
from cmdb.settings import Settings
from cmdb.store.sqlite.store import SqliteStore

ROOT = Path(__file__).resolve().parent.parent / "cmdb"
CORE = sorted([*(ROOT / "model").rglob("*.py"), *(ROOT / "services").rglob("*.py")])


def store_modules(path: Path) -> set[str]:
    """The ``cmdb.store`` modules a module imports, wherever in the module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("cmdb.store"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cmdb.store"):
            names.add(str(node.module))
    return names


def test_the_core_speaks_to_the_store_port_only() -> None:
    """Not the adapters' factory (``cmdb.store``) nor an adapter: the root chooses."""
    used = {str(p.relative_to(ROOT)): store_modules(p) - {"cmdb.store.base"} for p in CORE}
    assert {path: names for path, names in used.items() if names} == {}


async def test_async_with_opens_and_closes_the_store(tmp_path: Path) -> None:
    cmdb = connect(Settings(store_url=f"sqlite:///{tmp_path / 'cmdb.sqlite3'}"))
    assert isinstance(cmdb.store, SqliteStore)
    async with cmdb as opened:
        assert opened is cmdb
        await cmdb.store.ping()
    with pytest.raises(StoreUnavailableError):
        await cmdb.store.ping()


async def test_without_create_no_cmdb_is_an_error_and_makes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "not" / "here.sqlite3"
    with pytest.raises(NoCmdbError):
        async with connect(Settings(store_url=f"sqlite:///{path}"), create=False):
            pytest.fail("opened a CMDB that is not there")
    assert not path.parent.exists()
    async with connect(Settings(store_url=f"sqlite:///{path}")) as cmdb:
        assert cmdb.create
    async with connect(Settings(store_url=f"sqlite:///{path}"), create=False) as cmdb:
        await cmdb.store.ping()
