"""The audit's records read the documents stores already hold (as earlier versions wrote
them) and write them back the same: kinds, parents, keys and data."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cmdb.model.records import Doc
from cmdb.services.audit.records import Campaign, Finding, Progress, Sighting
from cmdb.services.audit.values import FindingStatus, FindingType, OpenFindings, Resolution

AT = datetime(2026, 7, 10, 2, 3, tzinfo=UTC)

CLOSED_CAMPAIGN = Doc(kind="campaign", id="c1", key="closed", version=3, created_at=AT,
                      updated_at=AT, data={
    "name": "2026 H2 北京", "place_ids": ["p-bj"], "classes": ["Server"],
    "class_set": ["Server"], "period_start": "2026-07-01", "period_end": None,
    "auditors": ["陈七"], "discovery_counts_as_verified": False,
    "events": [{"at": "2026-07-01T01:00:00+00:00", "actor": "陈七", "channel": "audit",
                "what": "planned", "reason": None}],
    "open_findings": "CARRY_OVER", "closed_at": "2026-07-20T08:00:00+00:00"})

RESOLVED_MISPLACED = Doc(kind="finding", id="f1", parent="c1", key="resolved:MISPLACED",
                         version=2, created_at=AT, updated_at=AT, data={
    "type": "MISPLACED", "status": "resolved", "campaign_id": "c1", "ci_id": "ci-1",
    "asset_tag": "BJ-0001", "place_id": "p-a01",
    "evidence": [{"sighting_id": "s1", "by": "陈七", "at": "2026-07-10T02:03:00+00:00",
                  "source": "scan", "place_id": "p-a03", "place": "北京总部/3楼机房/A03机柜",
                  "condition": "完好", "note": None}],
    "resolution": {"how": "ACCEPT_OBSERVED", "reason": "moved in May", "by": "王五",
                   "at": "2026-07-11T01:00:00+00:00", "detail": {"location_id": "p-a03"}},
    "registered_place_id": "p-a01", "seen_place_id": "p-a03",
    "seen_place": "北京总部/3楼机房/A03机柜"})

DISCOVERY_SIGHTING = Doc(kind="sighting", id="s2", parent="unscoped", key="tag:host-7",
                         created_at=AT, updated_at=AT, data={
    "asset_tag": None, "identity": "host-7", "place_text": None, "place_id": None,
    "condition": None, "note": "AMBIGUOUS", "auditor": "nmap",
    "seen_at": "2026-07-10T02:03:00+00:00", "source": "discovery", "run_id": "run-1",
    "recorded_by": "陈七", "differences": [["serial_number", "SN1", "SN2"]],
    "candidate_classes": ["Server", "Laptop"], "campaign_id": None,
    "candidates": ["ci-1", "ci-2"]})

PROGRESS = Doc(kind="campaign_progress", id="c1", parent="c1", version=4, created_at=AT,
               updated_at=AT, data={
    "places": {"p-a01": {"name": "A01机柜", "parent": "p-room", "registered": 3, "seen": 2,
                         "verified": 1, "open": 1},
               "": {"name": "", "registered": 0, "seen": 0, "verified": 0, "open": 1}},
    "taken_at": "2026-07-01T01:00:00+00:00"})


def same_storage(before: Doc, after: Doc) -> None:
    assert (after.kind, after.id, after.parent, after.key, after.version, after.created_at) \
        == (before.kind, before.id, before.parent, before.key, before.version,
            before.created_at)
    assert after.data == before.data


def test_a_campaign_reads_and_writes_back_as_stored() -> None:
    campaign = Campaign.from_doc(CLOSED_CAMPAIGN)
    assert (campaign.name, campaign.status, campaign.period_start, campaign.period_end) == (
        "2026 H2 北京", "closed", date(2026, 7, 1), None)
    assert campaign.open_findings is OpenFindings.CARRY_OVER
    assert campaign.events[0].actor == "陈七"
    same_storage(CLOSED_CAMPAIGN, campaign.to_doc())


def test_a_finding_reads_and_writes_back_as_stored() -> None:
    finding = Finding.from_doc(RESOLVED_MISPLACED)
    assert (finding.type, finding.status, finding.campaign_id) == (
        FindingType.MISPLACED, FindingStatus.RESOLVED, "c1")
    assert finding.resolution is not None
    assert finding.resolution.how is Resolution.ACCEPT_OBSERVED
    assert finding.last_evidence.place == "北京总部/3楼机房/A03机柜"
    assert not finding.is_open
    same_storage(RESOLVED_MISPLACED, finding.to_doc())


def test_a_sighting_reads_and_writes_back_as_stored() -> None:
    sighting = Sighting.from_doc(DISCOVERY_SIGHTING)
    assert sighting.campaign_id is None
    assert sighting.candidates == ("ci-1", "ci-2")
    assert sighting.differences == (("serial_number", "SN1", "SN2"),)
    assert sighting.seen_time == AT
    same_storage(DISCOVERY_SIGHTING, sighting.to_doc())


def test_progress_reads_and_writes_back_with_every_counter() -> None:
    progress = Progress.from_doc(PROGRESS)
    assert progress.places["p-a01"].registered == 3
    assert progress.places[""].parent is None
    written = progress.to_doc()
    assert written.data["places"]["p-a01"] == PROGRESS.data["places"]["p-a01"]
    assert written.data["places"][""] == {**PROGRESS.data["places"][""], "parent": None}
    assert (written.kind, written.id, written.parent, written.version) == (
        "campaign_progress", "c1", "c1", 4)
