"""A run's outcomes: kept as compact rows in blocks, read back a page at a time in file
order (all kinds or one), on both stores; runs recorded one doc per outcome still read."""

from __future__ import annotations

from typing import Any

import pytest

from cmdb.model.records import Doc, now
from cmdb.services import Cmdb
from cmdb.services.imports.outcome_rows import BLOCK_ROWS, OutcomeWriter
from cmdb.services.imports.outcomes import Outcome, Planned, observation_json
from cmdb.services.imports.records import (
    BLOCK,
    OUTCOME,
    ROW_DEFAULTS,
    ImportOutcome,
    ImportRun,
    OutcomeBlock,
    add_records,
    outcome_row,
)
from cmdb.store.base import StoreTx
from importers import Locator, Observation
from tests.importers.helpers import FIXTURES, run

KINDS = [Outcome.MATCHED, Outcome.MATCHED, Outcome.NEW, Outcome.MATCHED_WITH_DIFFERENCES,
         Outcome.MATCHED, Outcome.INVALID, Outcome.AMBIGUOUS]
ROWS = 2 * BLOCK_ROWS + 345


def plans(count: int) -> list[Planned]:
    out = []
    for i in range(count):
        obs = Observation(source="csv", kind="inventory",
                          locator=Locator(file="资产.csv", line=i + 2, record=i + 1),
                          asset_tag=f"BJ-{i:05d}", name=f"服务器-{i}")
        kind = KINDS[i % len(KINDS)]
        out.append(Planned(i + 2, i + 1, kind, obs, ci_id=f"ci-{i}" if kind != Outcome.NEW
                           else None, reason="bad" if kind == Outcome.INVALID else None))
    return out


def a_run(status: str, outcome_blocks: bool) -> ImportRun:
    return ImportRun(id=f"run-{status}", status=status, source="csv", file="资产.csv",
                     sha256="0" * 64, actor="importer", started_at=now(),
                     dry_run=status == "dry_run", outcome_blocks=outcome_blocks)


async def write_run(cmdb: Cmdb, count: int) -> str:
    run = a_run("dry_run", outcome_blocks=True)
    writer = OutcomeWriter(run.id)
    # Written in two pieces, as a dry run writes chunk by chunk.
    first, rest = plans(count)[:BLOCK_ROWS - 10], plans(count)[BLOCK_ROWS - 10:]
    records: list[ImportRun | OutcomeBlock] = [run, *writer.blocks(first),
                                               *writer.blocks(rest)]

    async def work(tx: StoreTx) -> None:
        await add_records(tx, records)

    await cmdb.store.write(work)
    return run.id


async def read_all(cmdb: Cmdb, run_id: str, kind: str | None, first: int
                   ) -> list[ImportOutcome]:
    out: list[ImportOutcome] = []
    after = None
    while True:
        page, more = await cmdb.imports.outcomes(run_id, kind, first=first, after=after)
        out += page
        assert len(page) <= first
        if not more:
            return out
        assert len(page) == first
        after = page[-1].id


async def test_pages_of_every_kind_follow_the_file_across_blocks(cmdb: Cmdb) -> None:
    run_id = await write_run(cmdb, ROWS)
    blocks = await cmdb.store.count_docs(BLOCK, parent=run_id)
    assert blocks <= 4 * len(Outcome)  # thousands of outcomes, a few docs
    for first in (500, 137):
        docs = await read_all(cmdb, run_id, None, first)
        assert [d.line for d in docs] == list(range(2, ROWS + 2))
        assert len({d.id for d in docs}) == ROWS
    [one] = (await cmdb.imports.outcomes(run_id, None, first=1))[0]
    assert one.as_json() == {**ROW_DEFAULTS, "line": 2, "record": 1, "outcome": "MATCHED",
                        "ci_id": "ci-0", "observation": {"asset_tag": "BJ-00000",
                                                         "name": "服务器-0"}}


@pytest.mark.parametrize("kind", [Outcome.INVALID, Outcome.MATCHED])
async def test_pages_of_one_kind_skip_the_others(cmdb: Cmdb, kind: Outcome) -> None:
    run_id = await write_run(cmdb, ROWS)
    expected = [i + 2 for i in range(ROWS) if KINDS[i % len(KINDS)] == kind]
    docs = await read_all(cmdb, run_id, kind.value, 50)
    assert [d.line for d in docs] == expected
    assert {d.outcome for d in docs} == {kind}


async def test_a_foreign_or_unknown_cursor_reads_nothing(cmdb: Cmdb) -> None:
    run_id = await write_run(cmdb, 20)
    assert await cmdb.imports.outcomes(run_id, None, first=5, after=f"{run_id}:7:3") == (
        [], False)
    for after in ("not-an-outcome", "other-run:0:1", f"{run_id}:x:1"):
        assert await cmdb.imports.outcomes(run_id, None, first=5, after=after) == ([], False)
    page, _ = await cmdb.imports.outcomes(run_id, None, first=5, after=f"{run_id}:0:1")
    assert [d.line for d in page] == [4, 5, 6, 7, 8]


async def test_runs_kept_one_doc_per_outcome_still_read(cmdb: Cmdb) -> None:
    run = a_run("applied", outcome_blocks=False)
    # as earlier versions wrote them: one doc per outcome, in full
    legacy = [Doc(kind=OUTCOME, parent=run.id, key=p.outcome.value,
                  data={**ROW_DEFAULTS, **outcome_row(p)}) for p in plans(12)]

    async def work(tx: StoreTx) -> None:
        await add_records(tx, [run])
        await tx.put_docs(legacy)

    await cmdb.store.write(work)
    page, more = await cmdb.imports.outcomes(run.id, "MATCHED", first=3)
    assert ([d.line for d in page], more) == ([2, 3, 6], True)
    assert [d.as_json() for d in page] == [{**ROW_DEFAULTS, **outcome_row(p)} for p in plans(12)
                                           if p.outcome is Outcome.MATCHED][:3]


@pytest.mark.parametrize(("source", "name"), [
    ("csv", "inventory-gbk.csv"), ("xlsx", "inventory.xlsx"), ("glpi", "glpi-vm.xml"),
    ("ocs", "ocs-vm.ocs"), ("lshw", "lshw-vm.json"), ("nmap", "nmap-localhost-v6.xml"),
    ("scans", "scans.csv")])
def test_observations_are_kept_as_pydantic_would_write_them(source: str, name: str) -> None:
    observations, _ = run(source, FIXTURES / name)
    assert observations
    for o in observations:
        expected: dict[str, Any] = o.model_dump(mode="json", exclude_defaults=True)
        assert observation_json(o) == expected
