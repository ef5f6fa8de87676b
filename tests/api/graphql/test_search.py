"""The query box over HTTP, authentication on, on each store: a Chinese register in
GB18030 and the real GLPI agent inventory of a VM are imported as users import them, then
found by what people paste: an IP, a MAC in Windows or Cisco notation, a host name, part
of a Chinese name."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.api.conftest import LiveServer
from tests.api.graphql.test_cis import CREATE
from tests.api.test_audit_end_to_end import upload

FIXTURES = Path(__file__).resolve().parents[2] / "importers" / "fixtures"
SEARCH = """query($q: String!, $class: String, $first: Int! = 50, $after: String) {
  cis(filter: {search: $q, class: $class}, first: $first, after: $after) {
    totalCount edges { node { name assetTag } } pageInfo { hasNextPage endCursor } } }"""


def names(live: LiveServer, query: str, cls: str | None = None) -> list[str]:
    data = live.ok(SEARCH, {"q": query, "class": cls})["cis"]
    found = [e["node"]["name"] for e in data["edges"]]
    assert data["totalCount"] == len(found)
    return found


def test_one_box_finds_addresses_host_names_and_chinese_names(
    live_store: LiveServer, tmp_path: Path
) -> None:
    sheet = tmp_path / "资产登记表.csv"
    shutil.copy(FIXTURES / "inventory-gbk.csv", sheet)
    assert upload(live_store, "csv", sheet, createPlaces="true",
                  applyValidOnly="true")["counts"]["NEW"] >= 3
    # The VM the GLPI agent reported (tests/importers/fixtures/glpi-vm.xml), entered by
    # hand with its MAC as `ipconfig /all` prints it.
    vm = live_store.ok(CREATE, {"i": {"class": "VirtualMachine", "name": "研发测试虚拟机",
                                      "attributes": {
                                          "ip_addresses": ["192.0.2.2", "fd00::2"],
                                          "mac_addresses": ["22-E4-D5-1B-7D-B9"],
                                          "hostnames": ["vm"], "fqdn": "vm.rd.example.cn"}}})
    assert live_store.client.headers["Authorization"].startswith("Bearer ")

    # The register: IPs and MACs as the sheet wrote them (3C-D9-2B-11-22-33, 3cd9.2b11.2234).
    assert names(live_store, "10.1.2.3") == ["财务部打印机"]
    assert names(live_store, "10.1.2.4") == ["研发服务器"]
    assert names(live_store, "FD00:0::4") == ["研发服务器"]
    assert names(live_store, "3c:d9:2b:11:22:33") == ["财务部打印机"]
    assert names(live_store, "3C-D9-2B-11-22-34") == ["研发服务器"]
    assert names(live_store, "3cd9.2b11.2234") == ["研发服务器"]
    assert names(live_store, "bj-srv") == ["研发服务器"]  # the host name, not the name
    assert names(live_store, "财务") == ["财务部", "财务部打印机"]  # the department too
    assert names(live_store, "bj-000") == sorted(names(live_store, "bj-000"))
    assert len(names(live_store, "bj-000")) >= 3
    assert names(live_store, "服务器", cls="Server") == ["研发服务器"]

    # The VM: by its addresses, its MAC in Cisco notation, its short name in the FQDN.
    assert vm["createCI"]["attributes"]["mac_addresses"] == ["22:e4:d5:1b:7d:b9"]
    assert names(live_store, "192.0.2.2") == ["研发测试虚拟机"]
    assert names(live_store, "fd00::2") == ["研发测试虚拟机"]
    assert names(live_store, "22e4.d51b.7db9") == ["研发测试虚拟机"]
    assert names(live_store, "rd.example") == ["研发测试虚拟机"]
    assert names(live_store, "测试") == ["研发测试虚拟机"]
    assert names(live_store, "10.1.2.30") == []

    # Labels for what the box finds (POST /labels takes the same filter).
    r = live_store.client.post("/labels", json={"filter": {"search": "3C-D9-2B-11-22-34"},
                                                "format": "zpl", "record": False})
    assert r.status_code == 200, r.text
    assert r.headers["x-label-count"] == "1"
    assert "BJ-0002" in r.text


def test_the_box_refuses_control_characters_and_overlong_text(live_store: LiveServer) -> None:
    err = live_store.error(SEARCH, {"q": "web\x1f01"})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert "search" in err["message"]
    err = live_store.error(SEARCH, {"q": "x" * 201})
    assert err["extensions"]["code"] == "VALIDATION_ERROR"
    assert names(live_store, "   ") == []  # an empty box: the whole (empty) register
