"""A CMDB in Beijing (Asia/Shanghai), on both stores: a scan at "2026-07-10 10:03" is
stored as 02:03 UTC and shown as 10:03; times with an offset keep theirs; the agent's
local LOGDATE, a sheet's date-time cells, a sighting and a change window without offset
are read in the zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from cmdb.model.records import Actor
from cmdb.model.registry import Registry
from cmdb.services import Cmdb
from cmdb.services.audit.recording import scan_file_sightings
from cmdb.services.audit.records import SIGHTING
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.sightings import SightingInput
from cmdb.services.changes.service import ChangeInput
from cmdb.services.imports.records import ImportOutcome
from cmdb.services.imports.service import ImportRequest
from cmdb.settings import Settings
from cmdb.store.base import Store
from importers import ColumnMapping
from tests.services.audit.estate import AuditEstate, build_estate

FIXTURES = Path(__file__).resolve().parents[2] / "importers" / "fixtures"
SCANS = """资产编号,位置,盘点人,盘点时间,状况,备注
BJ-0001,北京总部/3楼机房/A01机柜,陈七,2026-07-10 10:03,完好,
BJ-0004,北京总部/3楼机房/A01机柜,陈七,2026-07-10T10:03:00+09:00,完好,东京同事代扫
"""


@pytest.fixture
def beijing(store: Store, registry: Registry) -> Cmdb:
    return Cmdb.build(Settings(time_zone="Asia/Shanghai"), store=store, registry=registry)


async def open_campaign(cmdb: Cmdb, actor: Actor) -> AuditEstate:
    estate = await build_estate(cmdb, actor)
    doc = await cmdb.campaigns.create(actor, CampaignInput(
        "2026 H2 北京", [estate.places["bj"].id], ["Server"]))
    await cmdb.campaigns.open(actor, doc.id)
    return estate


async def sightings(cmdb: Cmdb) -> dict[str, str]:
    docs = (await cmdb.store.find_docs(SIGHTING, first=100)).items
    return {str(d.data["asset_tag"]): str(d.data["seen_at"]) for d in docs}


async def test_a_scans_import_is_stored_in_utc_and_shown_in_beijing_time(
        beijing: Cmdb, actor: Actor, tmp_path: Path) -> None:
    estate = await open_campaign(beijing, actor)
    path = tmp_path / "scans.csv"
    path.write_text(SCANS, encoding="utf-8")
    await beijing.imports.run("陈七", ImportRequest("scans", path))
    assert await sightings(beijing) == {"BJ-0001": "2026-07-10T02:03:00+00:00",
                                        "BJ-0004": "2026-07-10T01:03:00+00:00"}
    first = (await beijing.store.get_cis([estate.assets["BJ-0001"].id]))[
        estate.assets["BJ-0001"].id]
    assert first.attributes["last_audited_at"] == "2026-07-10T02:03:00+00:00"
    assert first.attributes["last_seen_scans"] == "2026-07-10T02:03:00+00:00"
    assert beijing.clock.text(first.attributes["last_audited_at"]) == "2026-07-10 10:03"
    findings, _ = await beijing.campaigns.findings(
        (await beijing.campaigns.find("open"))[0][0].id)
    assert {f.evidence[-1].at for f in findings} == {
        "2026-07-10T02:03:00+00:00", "2026-07-10T01:03:00+00:00"}


async def test_the_scans_command_reads_the_file_in_the_zone(
        beijing: Cmdb, actor: Actor, tmp_path: Path) -> None:
    await open_campaign(beijing, actor)
    path = tmp_path / "scans.csv"
    path.write_text(SCANS, encoding="utf-8")
    read = scan_file_sightings(path, beijing.clock)
    assert [s.seen_at for s in read] == [datetime(2026, 7, 10, 2, 3, tzinfo=UTC),
                                         datetime(2026, 7, 10, 1, 3, tzinfo=UTC)]
    result = await beijing.campaigns.record_sightings(actor, read, "scan")
    assert result.recorded == 2
    assert (await sightings(beijing))["BJ-0001"] == "2026-07-10T02:03:00+00:00"


async def test_a_sighting_without_an_offset_is_local_time(beijing: Cmdb, actor: Actor) -> None:
    """As GraphQL's recordSighting(seenAt: "2026-07-10T10:03:00") hands it over."""
    await open_campaign(beijing, actor)
    await beijing.campaigns.record_sightings(actor, [
        SightingInput("BJ-0001", "北京总部/3楼机房/A01机柜", seen_at=datetime(2026, 7, 10, 10, 3))],
        "page")
    assert await sightings(beijing) == {"BJ-0001": "2026-07-10T02:03:00+00:00"}


async def test_a_sheets_date_time_cells_are_local_time(beijing: Cmdb, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["资产编号", "名称", "类别", "盘点时间"])
    ws.append(["BJ-0101", "bj-srv-101", "服务器", datetime(2026, 7, 10, 10, 3)])
    ws.append(["BJ-0102", "bj-srv-102", "服务器", "2026/7/10 10:03"])
    path = tmp_path / "资产台账.xlsx"
    wb.save(path)
    run = await beijing.imports.run("importer", ImportRequest(
        "xlsx", path, mapping=ColumnMapping(columns={"盘点时间": "seen_at"})))
    docs, _ = await beijing.imports.outcomes(run.id, first=10)
    seen = [observed(d)["seen_at"] for d in docs]
    assert seen == ["2026-07-10T02:03:00Z", "2026-07-10T02:03:00Z"]


def observed(outcome: ImportOutcome) -> dict[str, object]:
    found = outcome.observation
    assert isinstance(found, dict), outcome
    return found


async def test_the_agents_local_logdate(beijing: Cmdb, actor: Actor) -> None:
    """The FusionInventory agent of a Beijing server wrote LOGDATE 2026-11-25 04:10:46."""
    server = await beijing.cis.create(actor, {
        "class_name": "Server", "name": "bj-vm-01",
        "attributes": {"hostnames": ["vm"]}})  # its MAC is locally administered
    await beijing.imports.run("importer", ImportRequest("glpi", FIXTURES / "glpi-vm.xml"))
    after = (await beijing.store.get_cis([server.id]))[server.id]
    assert after.attributes["last_seen_glpi"] == "2026-11-24T20:10:46+00:00"
    assert beijing.clock.show(after.attributes["last_seen_glpi"]) == \
        "2026-11-25 04:10 (UTC+08:00)"


async def test_a_change_window_without_an_offset_is_local_time(beijing: Cmdb,
                                                               actor: Actor) -> None:
    host = await beijing.cis.create(actor, {"class_name": "Server", "name": "bj-db-01"})
    doc = await beijing.changes.plan(actor, ChangeInput(
        "数据库扩容", "", "王五", "陈七", datetime(2026, 7, 10, 22, 0),
        datetime(2026, 7, 11, 2, 0, tzinfo=UTC), [host.id]))
    stored = (await beijing.store.get_docs("change", [doc.id]))[doc.id].data
    assert (stored["window_start"], stored["window_end"]) == (
        "2026-07-10T14:00:00+00:00", "2026-07-11T02:00:00+00:00")


async def test_summer_time_in_berlin(store: Store, registry: Registry, actor: Actor) -> None:
    berlin = Cmdb.build(Settings(time_zone="Europe/Berlin"), store=store, registry=registry)
    await open_campaign(berlin, actor)
    await berlin.campaigns.record_sightings(actor, [
        SightingInput("BJ-0001", "北京总部/3楼机房/A01机柜", seen_at=datetime(2026, 7, 10, 10, 3)),
        SightingInput("BJ-0002", "北京总部/3楼机房/A01机柜", seen_at=datetime(2026, 1, 10, 10, 3))],
        "page")
    assert await sightings(berlin) == {"BJ-0001": "2026-07-10T08:03:00+00:00",
                                       "BJ-0002": "2026-01-10T09:03:00+00:00"}
