"""The SQLite database, its WAL and shared-memory files, and backups are private files."""

from __future__ import annotations

import grp
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cmdb.cli.main import main
from cmdb.model.records import CI
from cmdb.store.sqlite.store import SqliteStore

ROOM = CI(class_name="Room", name="r1", state="deployed")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: the modes must not depend on the caller's."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


async def test_database_wal_and_shm_are_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "data" / "cmdb.sqlite3"
    store = SqliteStore(path)
    await store.open()
    try:
        await store.write(lambda tx: tx.insert_ci(ROOM))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await store.close()


async def test_a_configured_group_may_read(tmp_path: Path, open_umask: None) -> None:
    gid = os.getgid()
    path = tmp_path / "cmdb.sqlite3"
    store = SqliteStore(path, file_group=grp.getgrgid(gid).gr_name)
    await store.open()
    try:
        await store.write(lambda tx: tx.insert_ci(ROOM))
        for f in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert mode(f) == 0o640, f
            assert f.stat().st_gid == gid
    finally:
        await store.close()


async def test_a_world_readable_database_is_made_private_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await store.close()
    path.chmod(0o644)
    await store.open()
    await store.close()
    assert mode(path) == 0o640


def test_backups_are_private(tmp_path: Path, open_umask: None) -> None:
    db = tmp_path / "cmdb.sqlite3"
    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--db", str(db)]).exit_code == 0
    dump = tmp_path / "dump.jsonl"
    result = runner.invoke(main, ["backup", "-o", str(dump), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert mode(dump) == 0o600
    assert mode(db) == 0o600
    # Overwriting an older, world-readable dump makes it private too.
    dump.chmod(0o644)
    assert runner.invoke(main, ["backup", "-o", str(dump), "--db", str(db)]).exit_code == 0
    assert mode(dump) == 0o600
