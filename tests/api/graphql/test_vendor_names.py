"""Manufacturer names through the deployed server, on each store: a register in Chinese
uploaded over HTTP, the real agent inventory of the same Dell server saying "Dell Inc.",
GraphQL showing the canonical name and, in provenance, what the register wrote."""

from __future__ import annotations

from pathlib import Path

from tests.api.conftest import LiveServer
from tests.api.graphql.test_cis import CREATE, UPDATE
from tests.api.test_audit_end_to_end import upload
from tests.services.cis.test_vendors import agent_file

REGISTER = """资产编号,名称,类别,品牌,型号,序列号,位置,状态
BJ-0101, bj-db-01 ,服务器, 戴尔 ,PowerEdge R740,7XK2M53,北京总部/3楼机房/A01机柜,在用
"""
CI = """query($tag: String!) { ci(assetTag: $tag) { id version attributes provenance } }"""


def test_register_in_chinese_matched_by_the_agent_over_http(
    live_store: LiveServer, tmp_path: Path
) -> None:
    sheet = tmp_path / "资产登记表.csv"
    sheet.write_bytes(REGISTER.encode("gb18030"))
    assert upload(live_store, "csv", sheet, createPlaces="true")["counts"]["NEW"] == 1
    agent = upload(live_store, "glpi", agent_file(tmp_path, "Dell Inc.", "7XK2M53"))
    assert agent["counts"]["NEW"] == 0
    [out] = agent["outcomes"]
    assert out["matched_by"] == "serial_number"
    server = live_store.ok(CI, {"tag": "BJ-0101"})["ci"]
    assert out["ci_id"] == server["id"]
    assert server["attributes"]["manufacturer"] == "Dell"
    made = server["provenance"]["manufacturer"]
    assert (made["source"], made["observed"]) == ("csv", "戴尔")
    assert "observed" not in server["provenance"]["name"]  # kept as written: nothing to say

    # Through GraphQL by hand: stored canonical too, and the same serial is the same box.
    hp = live_store.ok(CREATE, {"i": {"class": "Server", "name": "bj-hp-01",
                                      "serialNumber": "CZJ12345AB",
                                      "attributes": {"manufacturer": "惠普"}}})["createCI"]
    assert hp["attributes"]["manufacturer"] == "HP"
    r = live_store.client.post("/graphql", json={"query": CREATE, "variables": {"i": {
        "class": "Server", "name": "again", "serialNumber": "CZJ12345AB",
        "attributes": {"manufacturer": "Hewlett Packard Enterprise"}}}})
    assert r.json()["errors"][0]["extensions"]["code"] == "DUPLICATE"
    renamed = live_store.ok(UPDATE, {"id": server["id"], "v": server["version"],
                                     "i": {"attributes": {"manufacturer": "DELL EMC"}}})
    assert renamed["updateCI"]["attributes"]["manufacturer"] == "Dell"
