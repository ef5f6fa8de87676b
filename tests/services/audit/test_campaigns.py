"""Audit campaigns end to end on each store: scope, sightings from a scan file, the asset
page and discovery, findings per type, close with MISSING, resolution of each kind.

Estate (see ``audit_estate``): BJ-0001..6 in rack A01 of 北京总部/3楼机房, BJ-0007 in
北京总部/2楼办公室, SH-0001 in 上海分部 (outside the campaign's scope).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmdb.errors import ConflictError, ValidationError
from cmdb.model.records import Actor, Channel
from cmdb.services import Cmdb
from cmdb.services.audit.recording import scan_file_sightings
from cmdb.services.audit.records import Campaign
from cmdb.services.audit.resolutions import ResolveOptions
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.sightings import DiscoveryOutcome, SightingInput
from cmdb.services.audit.values import OpenFindings, Resolution
from tests.services.audit.estate import AuditEstate, build_estate, write_scans

AUDITOR = Actor(name="陈七", channel=Channel.AUDIT)


async def by_type(cmdb: Cmdb, campaign_id: str) -> dict[str, set[str]]:
    docs, _ = await cmdb.campaigns.findings(campaign_id, first=500)
    out: dict[str, set[str]] = {}
    for d in docs:
        label = d.asset_tag or d.identity or d.ci_id
        out.setdefault(d.type, set()).add(str(label))
    return out


async def opened(cmdb: Cmdb, actor: Actor, estate: AuditEstate) -> Campaign:
    doc = await cmdb.campaigns.create(actor, CampaignInput(
        name="2026 H2 北京", place_ids=[estate.places["bj"].id], classes=["Server", "Laptop"],
        auditors=["陈七"]))
    return await cmdb.campaigns.open(actor, doc.id)


async def test_campaign_from_scans_to_resolutions(cmdb: Cmdb, actor: Actor,
                                                  tmp_path: Path) -> None:
    estate = await build_estate(cmdb, actor)
    a = estate.assets
    campaign = await opened(cmdb, actor, estate)
    scans = scan_file_sightings(write_scans(tmp_path))

    first = await cmdb.campaigns.record_sightings(AUDITOR, scans, "scan")
    again = await cmdb.campaigns.record_sightings(AUDITOR, scans, "scan")
    assert (first.recorded, first.unscoped) == (5, 1)
    assert (again.recorded, again.duplicates) == (0, 5)
    assert await cmdb.store.count_docs("sighting") == 5
    assert await cmdb.store.count_docs("sighting", parent="unscoped") == 1

    await cmdb.campaigns.record_sightings(AUDITOR, [SightingInput(
        "BJ-0004", place=estate.places["a01"].id, condition="good")], "page")
    await cmdb.campaigns.record_discovery(actor, "run-1", [
        # two servers answer one MAC: one asset registered twice
        DiscoveryOutcome("AMBIGUOUS", "mac 3c:d9:2b:11:22:33",
                         [a["BJ-0003"].id, a["BJ-0005"].id]),
        # a server and a laptop answer one host name: which one cannot be told
        DiscoveryOutcome("AMBIGUOUS", "host bj-shared", [a["BJ-0001"].id, a["BJ-0007"].id])])

    assert await by_type(cmdb, campaign.id) == {
        "VERIFIED": {"BJ-0001", "BJ-0004", "BJ-0006"}, "MISPLACED": {"BJ-0002"},
        "ATTRIBUTE_MISMATCH": {"BJ-0002"}, "UNREGISTERED": {"BJ-9999"},
        "DUPLICATE": {"mac 3c:d9:2b:11:22:33"}, "AMBIGUOUS": {"host bj-shared"}}
    verified = await cmdb.queries.get(asset_tag="BJ-0001")
    assert verified is not None
    assert verified.attributes["last_audited_campaign"] == "2026 H2 北京"
    assert verified.attributes["last_audited_at"].startswith("2026-07-06T14:30")
    rows = {r.name: r for r in await cmdb.campaigns.progress(campaign.id)}
    assert (rows["A01机柜"].registered, rows["A01机柜"].seen, rows["A01机柜"].verified) == (6, 4, 3)

    with pytest.raises(ValidationError):
        await cmdb.campaigns.close(actor, campaign.id, None)
    await cmdb.campaigns.close(actor, campaign.id, OpenFindings.LEAVE_OPEN)
    missing, _ = await cmdb.campaigns.findings(campaign.id, "MISSING")
    assert {d.ci_id for d in missing} == {a["BJ-0003"].id, a["BJ-0005"].id,
                                                    a["BJ-0007"].id}

    find = {(str(d.type), d.ci_id or d.asset_tag): d
            for d in (await cmdb.campaigns.findings(campaign.id, first=500))[0]}
    r = cmdb.resolutions
    await r.resolve(actor, find[("MISPLACED", a["BJ-0002"].id)].id,
                    Resolution.ACCEPT_OBSERVED, "moved during the May works")
    await r.resolve(actor, find[("ATTRIBUTE_MISMATCH", a["BJ-0002"].id)].id,
                    Resolution.KEEP_REGISTERED, "cosmetic only")
    await r.resolve(actor, find[("UNREGISTERED", "BJ-9999")].id, Resolution.REGISTER_NEW,
                    "found unregistered", ResolveOptions(class_name="Server", name="bj-new"))
    await r.resolve(actor, find[("MISSING", a["BJ-0007"].id)].id, Resolution.MARK_LOST,
                    "not found in two walks")
    duplicate = next(d for (t, _k), d in find.items() if t == "DUPLICATE")
    await r.resolve(actor, duplicate.id, Resolution.MERGE_DUPLICATES, "one box, two records",
                    ResolveOptions(survivor_id=a["BJ-0003"].id))
    with pytest.raises(ConflictError):
        await r.resolve(actor, duplicate.id, Resolution.KEEP_REGISTERED, "again")
    ambiguous = next(d for (t, _k), d in find.items() if t == "AMBIGUOUS")
    await r.resolve(actor, ambiguous.id, Resolution.KEEP_REGISTERED, "two devices, fine")

    moved = await cmdb.store.relationships_of([a["BJ-0002"].id], "out", ["LOCATED_IN"])
    assert moved[a["BJ-0002"].id][0].target_id == estate.places["a03"].id
    new = await cmdb.queries.get(asset_tag="BJ-9999")
    assert new is not None
    assert new.class_name == "Server"
    lost = await cmdb.queries.get(asset_tag="BJ-0007")
    assert lost is not None
    assert lost.state == "lost"
    merged = await cmdb.queries.get(asset_tag="BJ-0005")
    assert merged is not None
    assert merged.state == "disposed"
    kept = await cmdb.store.history(ci_id=a["BJ-0002"].id, first=20)
    reasons = [e.reason or "" for e in kept.items]
    assert any("KEEP_REGISTERED: cosmetic only" in x for x in reasons)
    assert any("ACCEPT_OBSERVED: moved during the May works" in x for x in reasons)
    survivor = await cmdb.store.history(ci_id=a["BJ-0003"].id, first=50)
    assert any(f"merged {a['BJ-0005'].id}" in (e.reason or "") for e in survivor.items)
    # the merged record's history moved along: its creation is on the survivor now
    came = [e for e in survivor.items
            if (e.reason or "").startswith(f"from merged CI {a['BJ-0005'].id}")]
    assert [e.action.value for e in came][-1] == "created"
    assert {e.entity_id for e in came if e.entity_kind.value == "ci"} == {a["BJ-0005"].id}
    open_left = await cmdb.campaigns.findings(campaign.id, status="open", first=50)
    assert {d.ci_id for d in open_left[0]} == {a["BJ-0003"].id, a["BJ-0005"].id}


async def test_overlapping_scope_and_carry_over(cmdb: Cmdb, actor: Actor) -> None:
    estate = await build_estate(cmdb, actor)
    first = await opened(cmdb, actor, estate)
    other = await cmdb.campaigns.create(actor, CampaignInput(
        name="room only", place_ids=[estate.places["room"].id]))
    with pytest.raises(ConflictError):
        await cmdb.campaigns.open(actor, other.id)
    with pytest.raises(ConflictError):
        await cmdb.campaigns.create(actor, CampaignInput(
            name="2026 h2 北京", place_ids=[estate.places["bj"].id]))
    await cmdb.campaigns.close(actor, first.id, OpenFindings.CARRY_OVER)
    carried = await cmdb.campaigns.findings(first.id, status="carried", first=50)
    assert len(carried[0]) == 7  # every asset of the site, never seen
    nxt = await cmdb.campaigns.open(actor, other.id)
    inherited, _ = await cmdb.campaigns.findings(nxt.id, status="open", first=50)
    assert {d.carried_from for d in inherited} == {first.id}
    assert len(inherited) == 6  # the laptop in the office is outside the room


async def test_bad_scan_file_records_nothing(cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    estate = await build_estate(cmdb, actor)
    await opened(cmdb, actor, estate)
    bad = tmp_path / "bad.csv"
    bad.write_text("资产编号,位置,盘点时间\nBJ-0001,北京总部,2026-07-06 10:00\n,北京总部,"
                   "2026-07-06 10:01\n", encoding="utf-8")
    with pytest.raises(ValidationError):
        scan_file_sightings(bad)
    assert await cmdb.store.count_docs("sighting") == 0


async def test_health(cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    estate = await build_estate(cmdb, actor)
    await cmdb.cis.create(actor, {"class_name": "Server", "name": "BJ SRV 01",
                                  "serial_number": "sn-bj-1", "asset_tag": "BJ-X1",
                                  "attributes": {"manufacturer": "other"}})
    report = await cmdb.health.report()
    with pytest.raises(ValidationError, match="staleDays"):
        await cmdb.health.report(stale_days=739_950)  # before year 1: refused, not a crash
    assert any(g.reason == "serial" and len(g.ci_ids) == 2 for g in report.duplicates)
    assert any(g.reason == "name" for g in report.duplicates)
    assert report.never_audited_count >= len(estate.assets)
    server = next(c for c in report.completeness if c.class_name == "Server")
    assert server.total == 8


async def test_a_failing_resolution_changes_nothing(cmdb: Cmdb, actor: Actor) -> None:
    from cmdb.errors import CmdbError
    from tests.services.cis.test_cis import snapshot

    estate = await build_estate(cmdb, actor)
    a = estate.assets
    campaign = await opened(cmdb, actor, estate)
    await cmdb.campaigns.record_discovery(actor, "run-1", [DiscoveryOutcome(
        "AMBIGUOUS", "mac 3c:d9:2b:11:22:33", [a["BJ-0003"].id, a["BJ-0005"].id])])
    (duplicate,), _ = await cmdb.campaigns.findings(campaign.id, "DUPLICATE")
    # BJ-0005 runs an application, and was marked lost meanwhile (lost -> in_stock only).
    app = await cmdb.cis.create(actor, {"class_name": "Application", "name": "erp"})
    await cmdb.cis.relate(actor, app.id, "RUNS_ON", a["BJ-0005"].id)
    await cmdb.cis.transition(actor, a["BJ-0005"].id, "lost")
    before = await snapshot(cmdb)
    # The merge moves the application's link and the history to BJ-0003, then cannot
    # retire a lost CI: all of it rolls back.
    with pytest.raises(CmdbError):
        await cmdb.resolutions.resolve(actor, duplicate.id, Resolution.MERGE_DUPLICATES,
                                       "one box", ResolveOptions(survivor_id=a["BJ-0003"].id))
    assert await snapshot(cmdb) == before
    again = await cmdb.resolutions.get(duplicate.id)
    assert again.status == "open"


async def test_verified_asset_is_stamped_once_per_campaign(cmdb: Cmdb, actor: Actor) -> None:
    from datetime import UTC, datetime

    estate = await build_estate(cmdb, actor)
    await opened(cmdb, actor, estate)
    rack = estate.places["a01"].id
    for hour in (9, 10, 11):
        await cmdb.campaigns.record_sightings(AUDITOR, [SightingInput(
            "BJ-0001", place=rack, condition="完好",
            seen_at=datetime(2026, 7, 6, hour, tzinfo=UTC))], "scan")
    ci = await cmdb.queries.get(asset_tag="BJ-0001")
    assert ci is not None
    assert ci.attributes["last_audited_at"].startswith("2026-07-06T09:00")
    stamps = [e for e in (await cmdb.store.history(ci_id=ci.id, first=50)).items
              if any(c.field == "attributes.last_audited_at" for c in e.changes)]
    assert len(stamps) == 1
    (finding,), _ = await cmdb.campaigns.findings(
        (await cmdb.campaigns.find("open"))[0][0].id, "VERIFIED")
    assert len(finding.evidence) == 3
