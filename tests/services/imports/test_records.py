"""Import runs and outcomes as typed records: what earlier versions stored reads into
them, and writes back unchanged (no run of a CMDB in use changes shape)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cmdb.model.records import Doc
from cmdb.services.imports.outcomes import LinkOutcome, Outcome
from cmdb.services.imports.records import (
    BLOCK,
    OUTCOME,
    RUN,
    ImportOutcome,
    ImportRun,
    OutcomeBlock,
)

BASE: dict[str, Any] = {
    "source": "scans", "file": "盘点 11月.csv", "sha256": "9f" * 32, "actor": "陈七",
    "started_at": "2026-11-24T02:03:00.123456+00:00", "dry_run": False,
    "apply_valid_only": True, "create_places": False,
    "counts": {"MATCHED": 3, "MATCHED_WITH_DIFFERENCES": 0, "NEW": 0, "AMBIGUOUS": 0,
               "INVALID": 1},
    "rejected": [{"line": 5, "record": 4, "field": "place",
                  "reason": "place '北京总部/3楼机房/Z99' is not registered"}],
    "outcome_blocks": True,
}
#: Runs as the import service has written them: applied and feeding audit campaigns;
#: refused for the file (no party counts yet); refused at the write (a CI changed).
STORED: dict[str, dict[str, Any]] = {
    "applied": {**BASE, "parties": {}, "would_reject": False, "status": "applied",
                "finished_at": "2026-11-24T02:03:04.500000+00:00",
                "campaign": {"id": None, "recorded": 2, "duplicates": 0, "unscoped": 1}},
    "rejected": {**BASE, "error": {"code": "IMPORT_BAD_ENCODING", "message": "not GBK",
                                   "file": "盘点 11月.csv", "line": 7, "column": None,
                                   "field": None},
                 "status": "rejected", "finished_at": "2026-11-24T02:03:01+00:00"},
    "conflict": {**BASE, "parties": {"LINKED": 2}, "would_reject": False,
                 "error": {"code": "VERSION_CONFLICT", "message": "CI changed"},
                 "status": "rejected", "finished_at": "2026-11-24T02:03:02+00:00"},
}


@pytest.mark.parametrize("name", sorted(STORED))
def test_a_stored_run_reads_and_writes_back_unchanged(name: str) -> None:
    doc = Doc(kind=RUN, key=STORED[name]["status"], data=STORED[name], version=2)
    run = ImportRun.from_doc(doc)
    assert run.to_doc() == doc
    assert (run.id, run.status, run.version) == (doc.id, doc.key, 2)
    assert run.started_at == datetime(2026, 11, 24, 2, 3, 0, 123456, tzinfo=UTC)
    assert [(r.line, r.field) for r in run.rejected] == [(5, "place")]


def test_what_a_run_says() -> None:
    applied = ImportRun.from_doc(Doc(kind=RUN, key="applied", data=STORED["applied"]))
    assert applied.campaign is not None
    assert (applied.campaign.recorded, applied.campaign.unscoped) == (2, 1)
    assert (applied.error, applied.would_reject, applied.parties) == (None, False, {})
    refused = ImportRun.from_doc(Doc(kind=RUN, key="rejected", data=STORED["rejected"]))
    assert refused.error is not None
    assert (refused.error.code, refused.error.line, refused.parties) == (
        "IMPORT_BAD_ENCODING", 7, None)


def test_the_json_of_a_run_is_its_stored_fields_with_the_status_first() -> None:
    doc = Doc(kind=RUN, key="applied", data=STORED["applied"])
    shown = ImportRun.from_doc(doc).as_json([])
    assert list(shown)[:2] == ["id", "status"]
    assert shown == {"id": doc.id, **STORED["applied"], "outcomes": []}


ROW: dict[str, Any] = {
    "outcome": "MATCHED_WITH_DIFFERENCES", "line": 9, "record": 8, "ci_id": "ci-1",
    "matched_by": "serial_number",
    "differences": [{"field": "location", "registered": "北京总部/3楼机房/A01",
                     "observed": "北京总部/3楼机房/A02", "source": "csv", "applied": True,
                     "note": None}],
    "parties": [{"field": "owner", "outcome": "LINKED", "value": "王五",
                 "relationship": "OWNED_BY", "column": "责任人 (K)", "party_id": "p-1",
                 "replaces": ["r-9"]}],
    "observation": {"asset_tag": "BJ-0009", "serial_number": "SN 01"}, "n": 8}


def test_an_outcome_row_of_a_block_reads_in_full() -> None:
    block = OutcomeBlock.from_doc(Doc(kind=BLOCK, id="run-1:000000:MATCHED_WITH_DIFFERENCES",
                                      parent="run-1", key="MATCHED_WITH_DIFFERENCES",
                                      data={"chunk": 0, "rows": [ROW]}))
    assert block.to_doc().data == {"chunk": 0, "rows": [ROW]}
    [(n, chunk, row)] = block.after(7)
    assert block.after(8) == []
    outcome = ImportOutcome.from_json(f"run-1:{chunk}:{n}", "run-1", row)
    assert (outcome.id, outcome.outcome, outcome.line) == (
        "run-1:0:8", Outcome.MATCHED_WITH_DIFFERENCES, 9)
    assert outcome.differences[0].observed == "北京总部/3楼机房/A02"
    assert outcome.parties[0].outcome is LinkOutcome.LINKED
    assert outcome.parties[0].replaces == ("r-9",)
    shown = outcome.as_json()
    assert shown == {"line": 9, "record": 8, "outcome": "MATCHED_WITH_DIFFERENCES",
                     "ci_id": "ci-1", "reason": None, "field": None, "candidates": [],
                     "matched_by": "serial_number", "differences": ROW["differences"],
                     "observation": ROW["observation"], "creates": None,
                     "transition": None, "parties": ROW["parties"]}


def test_an_outcome_kept_as_its_own_doc_reads_the_same() -> None:
    full = {**ImportOutcome.from_json("x", "run-1", ROW).as_json()}
    doc = Doc(kind=OUTCOME, parent="run-1", key=full["outcome"], data=full)
    outcome = ImportOutcome.from_doc(doc)
    assert (outcome.id, outcome.run_id) == (doc.id, "run-1")
    assert outcome.as_json() == full
