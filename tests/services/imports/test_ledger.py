"""The in-file duplicate check: a dict, and past its bound the store's scratch space."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cmdb.services.imports.ledger import KeyLedger
from cmdb.store.sqlite.store import SqliteStore


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "cmdb.sqlite3")
    await store.open()
    yield store
    await store.close()


async def test_a_value_used_twice_names_the_first_line(sqlite: SqliteStore) -> None:
    ledger = KeyLedger(sqlite)
    first = ledger.claim([
        ({"asset_tag": ["BJ-0001"], "mac_addresses": ["3c:d9:2b:11:22:33"]}, None, 2),
        ({"asset_tag": ["BJ-0002"], "mac_addresses": ["3c:d9:2b:11:22:33"]}, None, 3),
        ({"asset_tag": ["BJ-0003"]}, "ci-1", 4),
    ])
    assert first == [None, ("mac_addresses:3c:d9:2b:11:22:33", 2), None]
    # The duplicate claimed nothing: its tag is still free; the CI is taken.
    assert ledger.claim([({"asset_tag": ["BJ-0002"]}, None, 5), ({}, "ci-1", 6)]) == [
        None, ("ci:ci-1", 4)]
    ledger.close()


async def test_past_its_bound_the_ledger_moves_to_disk_and_still_finds_every_value(
        sqlite: SqliteStore) -> None:
    ledger = KeyLedger(sqlite, memory_keys=10)
    for line in range(2, 40):
        assert ledger.claim([({"asset_tag": [f"T{line}"], "hostnames": [f"h{line}"]},
                              f"ci{line}", line)]) == [None]
    assert ledger.disk is not None  # spilled
    assert ledger.size <= 10
    again = ledger.claim([({"asset_tag": ["T3"]}, None, 50), ({"hostnames": ["h39"]}, None, 51),
                          ({"asset_tag": ["new"], "hostnames": ["h-new"]}, None, 52),
                          ({"hostnames": ["h-new"]}, None, 53), ({}, "ci7", 54)])
    assert again == [("asset_tag:T3", 3), ("hostnames:h39", 39), None, ("hostnames:h-new", 52),
                     ("ci:ci7", 7)]
    ledger.close()
    assert ledger.disk is None
