"""Labels in GraphQL: templates, recording printing, and the URLs on a CI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import LiveServer
from tests.api.label_estate import BASE, CHINESE_TAG, Estate, label_server, page_url, seed

RECORD = """mutation($ids: [ID!]!) { recordLabelsPrinted(ids: $ids) {
  id assetTag version attributes history(first: 1) { nodes { action actor reason } } } }"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    yield from label_server(tmp_path)


@pytest.fixture
def estate(live: LiveServer) -> Estate:
    return seed(live)


def test_label_templates_describe_the_stock(live: LiveServer) -> None:
    data = live.ok("""{ labelTemplates { name kind pageWidthMm pageHeightMm labelWidthMm
                        labelHeightMm columns rows labelsPerPage } }""")
    by_name = {t["name"]: t for t in data["labelTemplates"]}
    assert {"avery-l7160", "avery-l7651", "avery-5160", "brother-dk-62x29",
            "dymo-89x36"} <= set(by_name)
    assert by_name["avery-l7160"] == {
        "name": "avery-l7160", "kind": "sheet", "pageWidthMm": 210.0, "pageHeightMm": 297.0,
        "labelWidthMm": 63.5, "labelHeightMm": 38.1, "columns": 3, "rows": 7,
        "labelsPerPage": 21}
    roll = by_name["dymo-89x36"]
    assert (roll["kind"], roll["pageWidthMm"], roll["labelsPerPage"]) == ("roll", 89.0, 1)


def test_record_labels_printed_returns_the_changed_cis(live: LiveServer,
                                                       estate: Estate) -> None:
    cis = live.ok(RECORD, {"ids": [estate.laptop, estate.server]})["recordLabelsPrinted"]
    assert [c["id"] for c in cis] == [estate.laptop, estate.server]
    laptop = cis[0]
    assert laptop["assetTag"] == CHINESE_TAG
    assert laptop["version"] == 2
    assert laptop["attributes"]["label_printed_by"] == "tests-admin"
    assert laptop["attributes"]["department"] == "财务部"
    assert laptop["history"]["nodes"][0] == {"action": "updated", "actor": "tests-admin",
                                             "reason": "label printed"}
    edges = live.ok("""{ cis(filter: {class: "Hardware"}) { edges { node { assetTag
                        attributes } } } }""")["cis"]["edges"]
    printed = {e["node"]["assetTag"] for e in edges
               if "label_printed_at" in e["node"]["attributes"]}
    assert printed == {CHINESE_TAG, "ZC-2024-0042"}


def test_record_labels_printed_refuses_unknown_ids_whole(live: LiveServer,
                                                         estate: Estate) -> None:
    version = "query($id: ID!) { ci(id: $id) { version } }"
    before = live.ok(version, {"id": estate.server})["ci"]["version"]
    error = live.error(RECORD, {"ids": [estate.server, "0" * 24]})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert live.ok(version, {"id": estate.server})["ci"]["version"] == before


def test_a_ci_links_to_its_page_and_label(live: LiveServer, estate: Estate) -> None:
    data = live.ok("""query($id: ID!, $vm: ID!) {
        laptop: ci(id: $id) { assetPageUrl labelUrl zpl: labelUrl(format: ZPL) }
        vm: ci(id: $vm) { assetPageUrl labelUrl } }""", {"id": estate.laptop, "vm": estate.vm})
    encoded = "%E8%B5%84%E4%BA%A7-0043"
    assert data["laptop"] == {"assetPageUrl": page_url(CHINESE_TAG),
                              "labelUrl": f"{BASE}/labels/{encoded}.png",
                              "zpl": f"{BASE}/labels/{encoded}.zpl"}
    assert data["vm"] == {"assetPageUrl": None, "labelUrl": None}
