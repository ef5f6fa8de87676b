"""Resolving findings: what a resolution does to the campaign's own count.

Estate (see ``audit_estate``): BJ-0001..6 in rack A01 of 北京总部/3楼机房, BJ-0007 in
北京总部/2楼办公室; the campaign "2026 H2 北京" audits servers and laptops of 北京总部.
"""

from __future__ import annotations

from cmdb.model.records import Actor
from cmdb.services import Cmdb
from cmdb.services.audit.report import gather
from cmdb.services.audit.resolutions import ResolveOptions
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.sightings import SightingInput
from cmdb.services.audit.values import OpenFindings, Resolution
from tests.services.audit.estate import build_estate
from tests.services.audit.test_campaigns import AUDITOR, opened


async def test_registered_from_a_sighting_is_seen_not_missing(cmdb: Cmdb,
                                                              actor: Actor) -> None:
    """BJ-9999 (a server with no record) and BJ-SW09 (a switch: not a class the campaign
    audits) are seen in rack A01 and registered from their findings before the close."""
    estate = await build_estate(cmdb, actor)
    campaign = await opened(cmdb, actor, estate)
    rack = estate.places["a01"].id
    seen = [SightingInput(f"BJ-000{i}", rack, "完好") for i in range(1, 7)]
    await cmdb.campaigns.record_sightings(AUDITOR, [
        *seen, SightingInput("BJ-0007", "北京总部/2楼办公室"),
        SightingInput("BJ-9999", "北京总部/3楼机房/A01机柜", "完好", "无此登记"),
        SightingInput("BJ-SW09", rack)], "scan")
    unregistered, _ = await cmdb.campaigns.findings(campaign.id, "UNREGISTERED")
    by_tag = {d.asset_tag: d for d in unregistered}
    await cmdb.resolutions.resolve(actor, by_tag["BJ-9999"].id, Resolution.REGISTER_NEW,
                                   "盘点发现未登记", ResolveOptions(class_name="服务器",
                                                                    name="bj-srv-99"))
    await cmdb.resolutions.resolve(actor, by_tag["BJ-SW09"].id, Resolution.REGISTER_NEW,
                                   "盘点发现未登记", ResolveOptions(class_name="Switch"))

    closed = await cmdb.campaigns.close(actor, campaign.id, OpenFindings.LEAVE_OPEN)
    assert closed.status == "closed"
    missing, _ = await cmdb.campaigns.findings(campaign.id, "MISSING")
    assert missing == []
    new = await cmdb.queries.get(asset_tag="BJ-9999")
    assert new is not None
    verified, _ = await cmdb.campaigns.findings(campaign.id, "VERIFIED", first=50)
    found = {d.ci_id: d for d in verified}
    assert len(found) == 8
    assert found[new.id].place_id == rack
    assert found[new.id].registered_from == by_tag["BJ-9999"].id
    assert found[new.id].evidence[0].by == "陈七"
    assert new.attributes["last_audited_campaign"] == "2026 H2 北京"
    assert new.attributes["last_audited_at"] == found[new.id].evidence[0].at

    report = await gather(cmdb, campaign.id)
    assert report.counts["VERIFIED"]["ok"] == 8
    assert report.counts["MISSING"] == {s: 0 for s in report.counts["MISSING"]}
    assert report.counts["UNREGISTERED"]["resolved"] == 2
    a01 = next(p for p in report.places if p.place_id == rack)
    # six servers registered when it opened, one registered since; all seen and verified
    assert (a01.registered, a01.seen, a01.verified, a01.open) == (7, 7, 7, 0)


async def test_registered_from_an_earlier_campaigns_sighting_is_not_seen_in_this_one(
        cmdb: Cmdb, actor: Actor) -> None:
    """BJ-9999 was seen in the first campaign, whose open findings went on to the next
    one over the same places; registered there, it still has to be seen in that walk."""
    estate = await build_estate(cmdb, actor)
    first = await opened(cmdb, actor, estate)
    await cmdb.campaigns.record_sightings(AUDITOR, [
        SightingInput("BJ-9999", estate.places["a01"].id)], "scan")
    await cmdb.campaigns.close(actor, first.id, OpenFindings.CARRY_OVER)
    second = await cmdb.campaigns.create(actor, CampaignInput(
        name="2027 H1 北京", place_ids=[estate.places["bj"].id], classes=["Server"]))
    await cmdb.campaigns.open(actor, second.id)
    (carried,), _ = await cmdb.campaigns.findings(second.id, "UNREGISTERED")
    await cmdb.resolutions.resolve(actor, carried.id, Resolution.REGISTER_NEW, "补登记",
                                   ResolveOptions(class_name="Server"))
    assert (await cmdb.campaigns.findings(second.id, "VERIFIED"))[0] == []
    await cmdb.campaigns.close(actor, second.id, OpenFindings.LEAVE_OPEN)
    missing, _ = await cmdb.campaigns.findings(second.id, "MISSING", first=50)
    assert "BJ-9999" in {d.asset_tag for d in missing}
