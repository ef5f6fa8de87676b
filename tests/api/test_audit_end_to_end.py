"""The audit campaign acceptance path over real HTTP, on each store.

An inventory sheet registers the estate; a campaign is opened on 北京总部 (discovery
counts as verified); a scan file, a real nmap file and a real agent inventory are
imported through ``POST /imports/{source}``; headless Chromium taps "seen here" on an
asset page; a sighting at a place that is not registered is refused by file and by
GraphQL. Then the findings per type are exactly the expected ones; an unregistered
server is registered from its sighting; closing gives the expected MISSING (not it);
each kind of finding is resolved over GraphQL and the CIs and their history change
accordingly.

Estate (the sheet below): BJ-0001..6 servers in rack A01 of 北京总部/3楼机房 (BJ-0003
and BJ-0004 share a physical NIC's MAC: one box registered twice; the agent file is the
real one with its VM's locally administered MAC, which never identifies, replaced by
that NIC's; BJ-0005 answers to
``localhost``, the host nmap scanned), BJ-0007 a laptop in 北京总部/2楼办公室,
SH-0001 in 上海分部 (outside the campaign). A second sheet, from another department,
gives BJ-0004 that MAC too (one sheet with the same MAC twice is refused).

nmap: the real scan of 127.0.0.1 matches nothing (``localhost`` is a placeholder
name, it never identifies): an unregistered device. The same file with the host
name a LAN scan would report (``bj-srv-05.corp.example``) finds BJ-0005.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.api.conftest import LiveServer, run_server, store_settings
from tests.importers.helpers import BOND_MAC, bonded_server
from tests.services.audit.estate import write_scans

FIXTURES = Path(__file__).resolve().parent.parent / "importers" / "fixtures"
VM_MAC = "02:fc:00:00:00:01"  # what the real agent reported for the test VM
NIC_MAC = "b8:ca:3a:6e:41:02"  # a physical NIC's (universally administered: it identifies)
SHEET = f"""资产编号,名称,类别,序列号,MAC地址,主机名,位置,状态
BJ-0001,bj-srv-01,服务器,SN-BJ-1,,,北京总部/3楼机房/A01机柜,在用
BJ-0002,bj-srv-02,服务器,SN-BJ-2,,,北京总部/3楼机房/A01机柜,在用
BJ-0003,bj-srv-03,服务器,SN-BJ-3,{NIC_MAC},,北京总部/3楼机房/A01机柜,在用
BJ-0004,bj-srv-04,服务器,SN-BJ-4,,,北京总部/3楼机房/A01机柜,在用
BJ-0005,bj-srv-05,服务器,SN-BJ-5,,bj-srv-05.corp.example,北京总部/3楼机房/A01机柜,在用
BJ-0006,bj-srv-06,服务器,SN-BJ-6,,,北京总部/3楼机房/A01机柜,在用
BJ-0007,财务部笔记本,笔记本电脑,,,,北京总部/2楼办公室,在用
SH-0001,sh-srv-01,服务器,SN-SH-1,,,上海分部/机房/B01机柜,在用
BJ-A03,A03机柜,机柜,,,,北京总部/3楼机房,在用
"""

CAMPAIGN = """mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id } }"""
OPEN = "mutation($id: ID!) { openCampaign(id: $id) { status } }"
CLOSE = """mutation($id: ID!) { closeCampaign(id: $id, openFindings: LEAVE_OPEN,
  reason: "walk done") { status } }"""
FINDINGS = """query($id: ID!) { campaign(id: $id) { findings(first: 100, filter: {status: null}) {
  nodes { id type status assetTag identity ci { id assetTag } candidates { id assetTag } } } } }"""
RESOLVE = """mutation($id: ID!, $r: FindingResolution!, $why: String!, $cls: String,
  $survivor: ID) { resolveFinding(id: $id, resolution: $r, reason: $why, className: $cls,
  survivorId: $survivor) { status } }"""
CI = """query($tag: String!) { ci(assetTag: $tag) { id state location { name }
  history(first: 50) { nodes { action reason } } } }"""


@pytest.fixture(params=["sqlite", "neo4j"])
def audit_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A signed-out demo server (loopback) on a fresh store of each kind, in Beijing."""
    yield from run_server(store_settings(request, tmp_path, "audit.sqlite3", auth="none",
                                         time_zone="Asia/Shanghai"))


def upload(live: LiveServer, source: str, path: Path, **form: str) -> dict[str, Any]:
    with path.open("rb") as f:
        r = live.client.post(f"/imports/{source}", files={"file": (path.name, f)}, data=form)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def findings(live: LiveServer, campaign_id: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = live.ok(FINDINGS, {"id": campaign_id})["campaign"][
        "findings"]["nodes"]
    return nodes


def by_type(nodes: list[dict[str, Any]], status: str | None = None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in nodes:
        if status is None or f["status"] == status:
            out.setdefault(f["type"], set()).add(f["assetTag"] or f["identity"])
    return out


def ci(live: LiveServer, tag: str) -> dict[str, Any]:
    found: dict[str, Any] = live.ok(CI, {"tag": tag})["ci"]
    return found


@pytest.mark.browser
def test_audit_campaign_end_to_end(audit_server: LiveServer, browser: Browser,
                                   tmp_path: Path) -> None:
    live = audit_server
    sheet = tmp_path / "inventory.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    registered = upload(live, "csv", sheet, createPlaces="true")
    assert registered["counts"]["NEW"] == 9
    second = tmp_path / "second.csv"
    second.write_text(f"资产编号,名称,类别,MAC地址\nBJ-0004,bj-srv-04,服务器,{NIC_MAC}\n",
                      encoding="utf-8")
    assert upload(live, "csv", second)["counts"]["MATCHED_WITH_DIFFERENCES"] == 1
    places = live.ok('{ cis(filter: {text: "北京总部"}) { edges { node { id name } } } }')
    site = next(e["node"]["id"] for e in places["cis"]["edges"]
                if e["node"]["name"] == "北京总部")
    campaign_id = live.ok(CAMPAIGN, {"input": {
        "name": "2026 H2 北京", "placeIds": [site], "classes": ["Server", "Laptop"],
        "auditors": ["陈七"], "discoveryCountsAsVerified": True}})["createCampaign"]["id"]
    assert live.ok(OPEN, {"id": campaign_id})["openCampaign"]["status"] == "open"

    scans = upload(live, "scans", write_scans(tmp_path))
    assert scans["campaign"] == {"id": None, "recorded": 5, "duplicates": 0, "unscoped": 1}
    again = upload(live, "scans", write_scans(tmp_path), campaign="2026 H2 北京")
    assert again["campaign"]["recorded"] == 0  # the same file twice: no new sightings
    nmap = upload(live, "nmap", FIXTURES / "nmap-localhost-v4.xml")
    assert (nmap["counts"]["NEW"], nmap["campaign"]["recorded"]) == (1, 1)
    lan = tmp_path / "nmap-lan.xml"
    lan.write_text((FIXTURES / "nmap-localhost-v4.xml").read_text(encoding="utf-8").replace(
        'name="localhost"', 'name="bj-srv-05.corp.example"'), encoding="utf-8")
    found = upload(live, "nmap", lan)
    assert found["counts"]["MATCHED_WITH_DIFFERENCES"] + found["counts"]["MATCHED"] == 1
    physical = tmp_path / "glpi-bj-srv-03.xml"
    physical.write_text((FIXTURES / "glpi-vm.xml").read_text(encoding="utf-8").replace(
        VM_MAC, NIC_MAC), encoding="utf-8")
    agent = upload(live, "glpi", physical)
    assert agent["counts"]["AMBIGUOUS"] == 1
    assert agent["campaign"]["recorded"] == 1
    feed = live.ok("query($id: ID!) { importRun(id: $id) { campaignFeed } }",
                   {"id": agent["id"]})["importRun"]["campaignFeed"]
    assert feed == {"id": None, "recorded": 1, "duplicates": 0, "unscoped": 0}
    # A place that is not registered is refused on every road, naming it; nothing written.
    mars = tmp_path / "mars.csv"
    mars.write_text("资产编号,位置,盘点人,盘点时间\nBJ-0001,火星基地/不存在的机房,陈七,"
                    "2026-07-06 16:00\n", encoding="gbk")
    with mars.open("rb") as f:
        refused = live.client.post("/imports/scans", files={"file": (mars.name, f)})
    assert refused.status_code == 422
    assert refused.json()["code"] == "IMPORT_REJECTED"
    assert "mars.csv line 2 field location: place '火星基地' is not registered" \
        in refused.json()["message"]
    err = live.error('mutation { recordSighting(input: {assetTag: "BJ-0001", '
                     'place: "火星基地/不存在的机房"}) { duplicate } }')
    assert (err["extensions"]["code"], err["extensions"]["place"]) == (
        "VALIDATION_ERROR", "火星基地/不存在的机房")

    page = browser.new_context(viewport={"width": 390, "height": 844},
                               locale="zh-CN").new_page()
    page.goto(f"{live.url}/a/BJ-0004")
    page.select_option("#condition", "完好")
    page.click("#seen-button")
    page.wait_for_url("**/a/BJ-0004?**")
    assert page.inner_text("#audit-message") == "已记录。"
    # the scan file's 14:30 is Beijing time: stored in UTC, shown in Beijing time
    audited = live.ok('{ ci(assetTag: "BJ-0001") { attributes } }')["ci"]["attributes"]
    assert audited["last_audited_at"] == "2026-07-06T06:30:00+00:00"
    page.goto(f"{live.url}/a/BJ-0001")
    assert "2026-07-06 14:30" in page.inner_text("#audit-history")
    assert page.inner_text("#time-zone") == "时区：Asia/Shanghai (UTC+08:00)"

    seen = findings(live, campaign_id)
    assert by_type(seen) == {
        "VERIFIED": {"BJ-0001", "BJ-0004", "BJ-0005", "BJ-0006"},
        "MISPLACED": {"BJ-0002"}, "ATTRIBUTE_MISMATCH": {"BJ-0002"},
        "UNREGISTERED": {"BJ-9999", "127.0.0.1"}, "DUPLICATE": {NIC_MAC}}
    assert not any(f["assetTag"] == "SH-0001" for f in seen)  # outside the scope

    def resolve(type_: str, tag: str, how: str, why: str, **extra: Any) -> None:
        finding = next(f for f in seen if f["type"] == type_
                       and tag in (f["assetTag"], f["identity"]))
        done = live.ok(RESOLVE, {"id": finding["id"], "r": how, "why": why, **extra})
        assert done["resolveFinding"]["status"] == "RESOLVED"

    # registered from its sighting before the close: seen, so never MISSING
    resolve("UNREGISTERED", "BJ-9999", "REGISTER_NEW", "新到货未登记", cls="Server")
    assert live.ok(CLOSE, {"id": campaign_id})["closeCampaign"]["status"] == "closed"
    seen = findings(live, campaign_id)
    assert by_type(seen)["MISSING"] == {"BJ-0003", "BJ-0007"}
    assert "BJ-9999" in by_type(seen)["VERIFIED"]

    resolve("MISPLACED", "BJ-0002", "ACCEPT_OBSERVED", "五月搬迁")
    resolve("ATTRIBUTE_MISMATCH", "BJ-0002", "KEEP_REGISTERED", "外壳小伤,不影响")
    resolve("MISSING", "BJ-0007", "MARK_LOST", "两次盘点均未找到")
    survivor = ci(live, "BJ-0004")["id"]
    resolve("DUPLICATE", NIC_MAC, "MERGE_DUPLICATES", "同一台虚拟机登记两次", survivor=survivor)

    moved = ci(live, "BJ-0002")
    assert moved["location"]["name"] == "A03机柜"
    reasons = " | ".join(h["reason"] or "" for h in moved["history"]["nodes"])
    assert "ACCEPT_OBSERVED: 五月搬迁" in reasons
    assert "KEEP_REGISTERED: 外壳小伤,不影响" in reasons
    new = ci(live, "BJ-9999")
    assert (new["state"], new["location"]["name"]) == ("in_stock", "A01机柜")
    assert ci(live, "BJ-0007")["state"] == "lost"
    assert ci(live, "BJ-0003")["state"] == "disposed"
    kept = ci(live, "BJ-0004")["history"]["nodes"]
    assert any("merged" in (h["reason"] or "") for h in kept)
    assert any((h["reason"] or "").startswith("from merged CI") for h in kept)
    left = by_type(findings(live, campaign_id), "OPEN")
    # BJ-0003 was merged away (no one decided on its MISSING yet); the localhost scan
    # was left for the network team.
    assert left == {"MISSING": {"BJ-0003"}, "UNREGISTERED": {"127.0.0.1"}}


BOND_WINDOWS = BOND_MAC.upper().replace(":", "-")  # as Windows prints it
REAL_REGISTER = f"""资产编号,名称,类别,品牌,序列号,MAC地址,责任人,使用部门,位置,状态
BJ-0101, bj-db-01 ,服务器, 戴尔 ,7XK2M53,,zhangsan,运维部,北京总部/3楼机房/A01机柜,在用
BJ-0102,bj-web-02,服务器,惠普,CZJ12345AB,,张三 ,运维部,北京总部/3楼机房/A01机柜,在用
BJ-0103,bj-k8s-03,服务器,DELL,SN-K8S-03,{BOND_WINDOWS},李四,应用部,北京总部/3楼机房/A02机柜,在用
"""
OWNER = """query($tag: String!) { ci(assetTag: $tag) { id attributes owner { id name } } }"""


@pytest.fixture(params=["sqlite", "neo4j"])
def production_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """Authentication on (API token), in Beijing, on a fresh store of each kind."""
    yield from run_server(store_settings(request, tmp_path, "audit.sqlite3",
                                         time_zone="Asia/Shanghai"))


def test_chinese_register_meets_english_agents(production_server: LiveServer,
                                               tmp_path: Path) -> None:
    """A GBK register in Chinese vendor names with an owner column, then agents
    reporting English legal names and a bonded NIC: every agent finds its registered
    server (none NEW), the owner column links people (an existing one by login and by
    name, a new one created once), and importing the register again changes nothing."""
    live = production_server
    assert live.token  # production mode: every request below carries the API token
    zhang = live.ok('mutation { createCI(input: {class: "Person", name: "张三", '
                    'attributes: {login: "zhangsan"}}) { id } }')["createCI"]["id"]
    sheet = tmp_path / "资产登记表.csv"
    sheet.write_bytes(REAL_REGISTER.encode("gbk"))
    assert upload(live, "csv", sheet, createPlaces="true")["counts"]["NEW"] == 3

    for serial, maker in (("7XK2M53", "Dell Inc."), ("CZJ12345AB",
                                                      "Hewlett Packard Enterprise")):
        text = (FIXTURES / "glpi-vm.xml").read_text(encoding="utf-8").replace(
            "<BIOS>\n      <SSN></SSN>\n    </BIOS>",
            f"<BIOS>\n      <SMANUFACTURER>{maker}</SMANUFACTURER>\n"
            f"      <SSN>{serial}</SSN>\n    </BIOS>")
        agent = tmp_path / f"{serial}.xml"
        agent.write_text(text, encoding="utf-8")
        counts = upload(live, "glpi", agent)["counts"]
        assert counts.get("NEW", 0) == 0, (maker, counts)
        assert counts.get("MATCHED", 0) + counts.get("MATCHED_WITH_DIFFERENCES", 0) == 1
    bonded = upload(live, "glpi", bonded_server(tmp_path))["counts"]
    assert bonded.get("NEW", 0) == 0, bonded
    assert bonded.get("AMBIGUOUS", 0) == 0, bonded

    owners = {tag: live.ok(OWNER, {"tag": tag})["ci"] for tag in
              ("BJ-0101", "BJ-0102", "BJ-0103")}
    assert owners["BJ-0101"]["owner"]["id"] == zhang  # by login
    assert owners["BJ-0102"]["owner"]["id"] == zhang  # by name, stray space and all
    assert owners["BJ-0103"]["owner"]["name"] == "李四"  # created by the register
    people = live.ok('{ cis(filter: {class: "Person"}) { totalCount } }')["cis"]
    assert people["totalCount"] == 2
    assert owners["BJ-0101"]["attributes"]["manufacturer"] == "Dell"

    again = upload(live, "csv", sheet)["counts"]
    assert {k: n for k, n in again.items() if n} == {"MATCHED": 3}
