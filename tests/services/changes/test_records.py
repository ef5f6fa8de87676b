"""A change as a typed record: what earlier versions stored reads into it and writes back
unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cmdb.model.records import Doc
from cmdb.services.changes.records import KIND, Change

STORED: dict[str, Any] = {
    "title": "核心交换机更换", "description": "", "requester": "王五", "responsible": "陈七",
    "window_start": "2026-07-10T14:00:00+00:00", "window_end": "2026-07-11T02:00:00+00:00",
    "ci_ids": ["sw-1"],
    "impact": {"computed_at": "2026-07-01T08:00:00.500000+00:00", "truncated": False,
               "impacted": [{"id": "vm-1", "status": "DOWN", "depth": 1, "from": "sw-1",
                             "via": "CONNECTED_TO"}],
               "services": [{"id": "svc-1", "status": "DEGRADED"}]},
    "events": [{"at": "2026-07-01T08:00:00.500000+00:00", "actor": "王五", "channel": "api",
                "from": None, "to": "draft", "reason": "planned"},
               {"at": "2026-07-02T08:00:00+00:00", "actor": "陈七", "channel": "cli",
                "from": "draft", "to": "approved", "reason": None}],
}


def test_a_stored_change_reads_and_writes_back_unchanged() -> None:
    doc = Doc(kind=KIND, key="approved", data=STORED, version=2)
    change = Change.from_doc(doc)
    assert change.to_doc() == doc
    assert (change.state, change.version, change.ci_ids) == ("approved", 2, ("sw-1",))
    assert change.window_start == datetime(2026, 7, 10, 14, tzinfo=UTC)
    assert change.touched() == {"sw-1", "vm-1"}
    [item] = change.impact.impacted
    assert (item.reached_from, item.via, item.depth) == ("sw-1", "CONNECTED_TO", 1)
    assert [(e.from_state, e.to_state, e.channel) for e in change.events] == [
        (None, "draft", "api"), ("draft", "approved", "cli")]
