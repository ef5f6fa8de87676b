"""Sightings name registered places, and only open campaigns that cover an asset take it.

Estate (see ``audit_estate``): BJ-0001..6 in rack A01 of 北京总部/3楼机房, BJ-0007 in
北京总部/2楼办公室, SH-0001 in 上海分部 (outside the campaign's scope); the campaign
"2026 H2 北京" audits servers and laptops of 北京总部.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmdb.errors import ImportRejectedError, ValidationError
from cmdb.model.records import Actor
from cmdb.services import Cmdb
from cmdb.services.audit.recording import scan_file_sightings
from cmdb.services.audit.sightings import SightingInput
from cmdb.services.audit.values import OpenFindings, Resolution
from cmdb.services.imports.service import ImportRequest
from tests.services.audit.estate import build_estate
from tests.services.audit.test_campaigns import AUDITOR, opened

UNKNOWN = "火星基地/不存在的机房"
# Line 3 names a rack that room does not have (the label says A09, the register has none).
SCANS_UNKNOWN_RACK = """资产编号,位置,盘点人,盘点时间,状况,备注
BJ-0001,北京总部/3楼机房/A01机柜,陈七,2026-07-06 14:30,完好,
BJ-0002,北京总部/3楼机房/A09机柜,陈七,2026-07-06 14:35,完好,新机柜
BJ-0003,北京总部/3楼机房/A01机柜,陈七,2026-07-06 14:40,完好,
"""


async def state(cmdb: Cmdb, campaign_id: str) -> tuple[int, list[tuple[str, str, str]], str]:
    """Sightings, findings (type, status, CI) and progress: what a refusal must not touch."""
    docs, _ = await cmdb.campaigns.findings(campaign_id, first=500)
    progress = await cmdb.store.get_docs("campaign_progress", [campaign_id])
    return (await cmdb.store.count_docs("sighting"),
            sorted((d.type, d.status, str(d.ci_id)) for d in docs),
            repr(progress[campaign_id].data["places"]))


async def test_a_sighting_at_an_unknown_place_is_refused(cmdb: Cmdb, actor: Actor) -> None:
    estate = await build_estate(cmdb, actor)
    campaign = await opened(cmdb, actor, estate)
    rack = estate.places["a01"].id
    await cmdb.campaigns.record_sightings(AUDITOR, [SightingInput("BJ-0001", rack, "完好")],
                                          "page")
    before = await state(cmdb, campaign.id)
    assert before[1] == [("VERIFIED", "ok", estate.assets["BJ-0001"].id)]

    with pytest.raises(ValidationError) as caught:
        await cmdb.campaigns.record_sightings(AUDITOR, [SightingInput("BJ-0001", UNKNOWN)],
                                              "page")
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.details["field"] == "place"
    assert caught.value.details["place"] == UNKNOWN
    assert UNKNOWN in caught.value.message
    assert "'火星基地' is not registered" in caught.value.message
    # an unknown rack in a registered room, a CI that is not a place, a disposed place
    server = estate.assets["BJ-0006"].id
    await cmdb.cis.transition(actor, estate.places["a03"].id, "retired")
    await cmdb.cis.transition(actor, estate.places["a03"].id, "disposed")
    for place, said in (("北京总部/3楼机房/A09机柜", "'A09机柜' in '3楼机房' is not registered"),
                        (server, "not a place"), (estate.places["a03"].id, "disposed"),
                        ("北京总部/3楼机房/A03机柜", "'A03机柜' in '3楼机房' is not registered")):
        with pytest.raises(ValidationError, match=said):
            await cmdb.campaigns.record_sightings(AUDITOR, [SightingInput("BJ-0001", place)],
                                                  "scan")
    # one bad sighting in a batch refuses the batch: nothing written, the VERIFIED kept
    with pytest.raises(ValidationError, match="不存在的机房"):
        await cmdb.campaigns.record_sightings(AUDITOR, [
            SightingInput("BJ-0002", rack), SightingInput("BJ-0003", UNKNOWN)], "scan")
    assert await state(cmdb, campaign.id) == before
    (verified,), _ = await cmdb.campaigns.findings(campaign.id, "VERIFIED")
    assert len(verified.evidence) == 1


async def test_place_paths_as_people_type_them(cmdb: Cmdb, actor: Actor) -> None:
    """Full-width slashes, backslashes and stray spaces resolve as imports resolve them;
    the MISPLACED finding names the place, so ACCEPT_OBSERVED can move the asset there."""
    estate = await build_estate(cmdb, actor)
    campaign = await opened(cmdb, actor, estate)
    result = await cmdb.campaigns.record_sightings(AUDITOR, [
        SightingInput("BJ-0001", " 北京总部 ／ 3楼机房／A03机柜 "),
        SightingInput("BJ-0002", "北京总部\\3楼机房\\A01机柜"),
        SightingInput("BJ-0003", "   ")], "scan")  # no place said: seen, not misplaced
    assert result.recorded == 3
    (misplaced,), _ = await cmdb.campaigns.findings(campaign.id, "MISPLACED")
    assert misplaced.seen_place_id == estate.places["a03"].id
    await cmdb.resolutions.resolve(actor, misplaced.id, Resolution.ACCEPT_OBSERVED, "搬迁")
    moved = await cmdb.store.relationships_of([estate.assets["BJ-0001"].id], "out",
                                              ["LOCATED_IN"])
    assert moved[estate.assets["BJ-0001"].id][0].target_id == estate.places["a03"].id
    verified, _ = await cmdb.campaigns.findings(campaign.id, "VERIFIED")
    assert sorted(str(d.asset_tag) for d in verified) == ["BJ-0002", "BJ-0003"]


async def test_a_scan_file_naming_an_unknown_rack_records_nothing(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    """``cmdb audit scans``: the whole file is refused, naming the line and the place."""
    estate = await build_estate(cmdb, actor)
    campaign = await opened(cmdb, actor, estate)
    path = tmp_path / "盘点扫描.csv"
    path.write_text(SCANS_UNKNOWN_RACK, encoding="gbk")
    before = await state(cmdb, campaign.id)
    with pytest.raises(ValidationError) as caught:
        await cmdb.campaigns.record_sightings(AUDITOR, scan_file_sightings(path), "scan")
    assert caught.value.message.startswith("盘点扫描.csv line 3: unknown place "
                                           "'北京总部/3楼机房/A09机柜'")
    assert await state(cmdb, campaign.id) == before


async def test_a_scans_import_naming_an_unknown_rack(cmdb: Cmdb, actor: Actor,
                                                     tmp_path: Path) -> None:
    """``cmdb import scans``: the row is INVALID (as a sheet's unknown place is); the file
    is refused unless valid rows may be applied, and the bad row never feeds a campaign."""
    estate = await build_estate(cmdb, actor)
    campaign = await opened(cmdb, actor, estate)
    path = tmp_path / "scans.csv"
    path.write_text(SCANS_UNKNOWN_RACK, encoding="utf-8")
    before = await state(cmdb, campaign.id)
    with pytest.raises(ImportRejectedError) as caught:
        await cmdb.imports.run("陈七", ImportRequest("scans", path))
    assert caught.value.code == "IMPORT_REJECTED"
    assert caught.value.details["line"] == 3
    assert caught.value.details["field"] == "location"
    assert "'A09机柜' in '3楼机房' is not registered" in caught.value.message
    assert "--create-places" not in caught.value.message
    assert await state(cmdb, campaign.id) == before

    run = await cmdb.imports.run("陈七", ImportRequest("scans", path, apply_valid_only=True))
    assert run.counts["INVALID"] == 1
    assert run.campaign is not None
    assert run.campaign.recorded == 2
    found, _ = await cmdb.campaigns.findings(campaign.id, first=50)
    assert sorted((d.type, d.asset_tag) for d in found) == [
        ("VERIFIED", "BJ-0001"), ("VERIFIED", "BJ-0003")]


async def test_covering_open_campaigns(cmdb: Cmdb, actor: Actor) -> None:
    """Only a campaign over the asset's class and registered place covers it."""
    estate = await build_estate(cmdb, actor)
    campaign = await opened(cmdb, actor, estate)
    switch = await cmdb.cis.create(actor, {"class_name": "Switch", "name": "bj-sw-01",
                                           "asset_tag": "BJ-SW01",
                                           "location_id": estate.places["a01"].id})
    unplaced = await cmdb.cis.create(actor, {"class_name": "Server", "name": "bj-srv-x",
                                             "asset_tag": "BJ-0100"})

    async def covering(ci_id: str) -> list[str]:
        ci = (await cmdb.store.get_cis([ci_id]))[ci_id]
        return [s.id for s in await cmdb.campaigns.covering(ci)]

    assert await covering(estate.assets["BJ-0001"].id) == [campaign.id]
    assert await covering(estate.assets["BJ-0007"].id) == [campaign.id]  # the laptop
    for ci_id in (estate.assets["SH-0001"].id, estate.places["a01"].id, switch.id,
                  unplaced.id):
        assert await covering(ci_id) == []
    await cmdb.campaigns.close(actor, campaign.id, OpenFindings.LEAVE_OPEN)
    assert await covering(estate.assets["BJ-0001"].id) == []

