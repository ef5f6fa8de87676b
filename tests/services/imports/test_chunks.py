"""A file of several chunks: each chunk's tag question is sent while the one before is
compared, and every record is still identified once, in file order (both stores)."""

from __future__ import annotations

import csv
from pathlib import Path

from bench.gen_inventory_csv import HEADERS, rows
from cmdb.services import Cmdb
from cmdb.services.imports.service import CHUNK, ImportRequest

RECORDS = 2 * CHUNK + 300


def sheet(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADERS["cn"])
        out.writerows(rows(count, 5))
    return path


async def test_chunks_are_identified_once_with_their_questions_asked_ahead(
        cmdb: Cmdb, tmp_path: Path) -> None:
    path = sheet(tmp_path / "资产.csv", RECORDS)
    request = ImportRequest("csv", path, create_places=True)
    first = await cmdb.imports.run("importer", request)
    assert first.counts["NEW"] == RECORDS
    before = cmdb.store.calls["find_ci_facts"]
    again = await cmdb.imports.run("importer", request)
    counts = {k: v for k, v in again.counts.items() if v}
    assert sum(counts.values()) == RECORDS
    assert "NEW" not in counts
    assert "INVALID" not in counts
    # One tag question per chunk (three), one for the place hierarchy and one for the
    # people and teams the 责任人 and 部门 columns name: none twice.
    assert cmdb.store.calls["find_ci_facts"] - before == 3 + 1 + 1
    assert not (await cmdb.store.history(run_id=again.id)).items
    page, _ = await cmdb.imports.outcomes(again.id, first=500, after=None)
    assert [d.line for d in page] == list(range(2, 502))
