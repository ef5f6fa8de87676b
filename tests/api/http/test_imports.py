"""Imports over HTTP and GraphQL, through a real server: multipart uploads, runs, outcomes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmdb.settings import Settings
from tests.api.conftest import LiveServer, run_server

FIXTURES = Path(__file__).resolve().parents[2] / "importers" / "fixtures"
GBK = FIXTURES / "inventory-gbk.csv"

IMPORT = """
mutation($file: Upload!, $dry: Boolean!) {
  importFile(source: "csv", file: $file, dryRun: $dry, applyValidOnly: true,
             createPlaces: true) {
    id status file dryRun counts { new invalid matched }
  }
}"""

RUN = """
query($id: ID!) {
  importRun(id: $id) {
    status sha256 counts { new invalid }
    outcomes(first: 2) {
      nodes { outcome line ci { assetTag class name } observation differences { field } }
      pageInfo { hasNextPage endCursor }
    }
    invalid: outcomes(outcome: INVALID) { nodes { line reason } }
  }
  importRuns(first: 5) { nodes { id status } }
}"""


def gql_upload(live: LiveServer, query: str, path: Path, **variables: Any) -> Any:
    """A GraphQL multipart request: operations, map, and the file part."""
    operations = {"query": query, "variables": {"file": None, **variables}}
    return live.client.post("/graphql", data={
        "operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]}),
    }, files={"0": (path.name, path.read_bytes(), "text/csv")})


def test_http_import_previews_applies_and_refuses(live: LiveServer) -> None:
    files = {"file": (GBK.name, GBK.read_bytes(), "text/csv")}
    preview = live.client.post("/imports/csv", data={"dryRun": "true"}, files=files)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["status"] == "dry_run"
    assert body["counts"]["INVALID"] == 4  # no --create-places: the places are unknown
    assert "place '北京总部' is not registered" in body["outcomes"][0]["reason"]
    refused = live.client.post("/imports/csv", data={"createPlaces": "true"}, files=files)
    assert refused.status_code == 422
    assert refused.json()["code"] == "IMPORT_REJECTED"
    assert "inventory-gbk.csv line 5 field mac_addresses" in refused.json()["message"]
    applied = live.client.post("/imports/csv", files=files, data={
        "createPlaces": "true", "applyValidOnly": "true"})
    assert applied.status_code == 200, applied.text
    assert applied.json()["counts"]["NEW"] == 3
    bomb = FIXTURES / "hostile" / "billion-laughs.xml"
    r = live.client.post("/imports/nmap", files={"file": (bomb.name, bomb.read_bytes())})
    assert r.status_code == 422
    assert r.json()["code"] == "IMPORT_FORBIDDEN_XML"
    assert r.json()["details"]["line"] == 3
    r = live.client.post("/imports/nope", files=files)
    assert r.json()["code"] == "IMPORT_UNKNOWN_IMPORTER"
    r = live.client.post("/imports/csv", data={"dryRun": "true"})
    assert r.status_code == 400


def test_graphql_multipart_upload_then_inspect_the_run(live: LiveServer) -> None:
    r = gql_upload(live, IMPORT, GBK, dry=False)
    assert r.status_code == 200, r.text
    run = r.json()["data"]["importFile"]
    assert run["status"] == "applied"
    assert run["counts"] == {"new": 3, "invalid": 1, "matched": 0}
    data = live.ok(RUN, {"id": run["id"]})["importRun"]
    assert data["counts"] == {"new": 3, "invalid": 1}
    first = data["outcomes"]["nodes"][0]
    assert first["ci"] == {"assetTag": "BJ-0001", "class": "Printer", "name": "财务部打印机"}
    assert first["observation"]["location"] == ["北京总部", "3楼机房", "A01机柜"]
    assert data["outcomes"]["pageInfo"]["hasNextPage"] is True
    assert data["invalid"]["nodes"][0]["line"] == 5
    again = gql_upload(live, IMPORT, GBK, dry=False).json()["data"]["importFile"]
    assert again["counts"] == {"new": 0, "invalid": 1, "matched": 3}
    runs = live.ok(RUN, {"id": again["id"]})["importRuns"]["nodes"]
    assert [n["id"] for n in runs] == [again["id"], run["id"]]


def test_graphql_import_errors_are_coded(live: LiveServer) -> None:
    bomb = FIXTURES / "hostile" / "billion-laughs.xml"
    query = 'mutation($file: Upload!) { importFile(source: "nmap", file: $file) { id } }'
    body = gql_upload(live, query, bomb).json()
    assert body["errors"][0]["extensions"]["code"] == "IMPORT_FORBIDDEN_XML"
    assert body["errors"][0]["extensions"]["line"] == 3
    bad_map = live.client.post("/graphql", data={
        "operations": json.dumps({"query": query, "variables": {"file": None}}),
        "map": json.dumps({"0": ["variables.nothere.x"]}),
    }, files={"0": ("a.xml", b"<x/>")})
    assert bad_map.status_code == 400 or "errors" in bad_map.json()
    missing = live.client.post("/graphql", data={"operations": "{"}, files={"0": ("a", b"")})
    assert "errors" in missing.json()
    sheet_for_campaign = ('mutation($file: Upload!) { importFile(source: "csv", file: $file,'
                          ' campaign: "2026 H2") { id } }')
    refused = gql_upload(live, sheet_for_campaign, GBK).json()["errors"][0]
    assert refused["extensions"]["code"] == "VALIDATION_ERROR"
    assert refused["message"] == "a csv import does not feed audit campaigns"
    scans_for_nothing = sheet_for_campaign.replace('"csv"', '"scans"')
    unknown = gql_upload(live, scans_for_nothing, FIXTURES / "scans.csv").json()["errors"][0]
    assert unknown["extensions"]["code"] == "NOT_FOUND"


@pytest.fixture
def small_uploads(tmp_path: Path) -> Iterator[LiveServer]:
    yield from run_server(Settings(store_url=f"sqlite:///{tmp_path / 'up.sqlite3'}",
                                   max_upload_bytes=4096))


def test_uploads_are_bounded(small_uploads: LiveServer) -> None:
    big = b"Asset Tag,Name\n" + b"A-1,x\n" * 2000
    r = small_uploads.client.post("/imports/csv", files={"file": ("big.csv", big)})
    assert r.status_code == 413
    r = small_uploads.client.post("/graphql", data={"operations": "{}", "map": "{}"},
                                  files={"0": ("big.csv", big)})
    assert r.status_code == 413


# Every source, with a file the real tool (or Excel's way of writing) produced.
SOURCES = [
    ("csv", "inventory-gbk.csv", "text/csv"),
    ("xlsx", "inventory.xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("nmap", "nmap-localhost-v4.xml", "application/xml"),
    ("glpi", "glpi-vm.xml", "application/xml"),
    ("ocs", "ocs-vm.ocs", "application/octet-stream"),
    ("lshw", "lshw-vm.json", "application/json"),
    ("scans", "scans.csv", "text/csv"),
]


def cli_dry_run(live: LiveServer, tmp_path: Path, source: str, path: Path) -> dict[str, Any]:
    """The same file previewed by `cmdb import --dry-run --json` on the server's store."""
    from click.testing import CliRunner

    from cmdb.cli.main import main

    db = tmp_path / "api.sqlite3"
    result = CliRunner().invoke(main, ["import", source, str(path), "--dry-run", "--json",
                                       "--db", str(db)])
    text = result.stdout
    body: dict[str, Any] = json.JSONDecoder().raw_decode(text[text.index("{"):])[0]
    return body


def comparable(run: dict[str, Any]) -> tuple[Any, ...]:
    return (run["status"], run["file"], run["sha256"], run["counts"],
            [(o["outcome"], o.get("line"), o.get("record"), o.get("reason"))
             for o in run["outcomes"]])


@pytest.mark.parametrize(("source", "name", "media"), SOURCES)
def test_every_source_imports_over_http_as_from_the_cli(
        live: LiveServer, tmp_path: Path, source: str, name: str, media: str) -> None:
    path = FIXTURES / name
    expected = cli_dry_run(live, tmp_path, source, path)
    assert expected["status"] == "dry_run"
    assert sum(expected["counts"].values()) > 0
    r = live.client.post(f"/imports/{source}", data={"dryRun": "true"},
                         files={"file": (name, path.read_bytes(), media)})
    assert r.status_code == 200, r.text
    assert comparable(r.json()) == comparable(expected)
    # GraphQL: the same file, sent by a client that gives no file name suffix at all.
    query = ('mutation($file: Upload!) { importFile(source: "' + source + '", file: $file,'
             ' dryRun: true) { id status file counts { matched new ambiguous invalid } } }')
    operations = {"query": query, "variables": {"file": None}}
    g = live.client.post("/graphql", data={
        "operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]}),
    }, files={"0": ("upload", path.read_bytes(), media)})
    body = g.json()
    assert "errors" not in body, body
    run = body["data"]["importFile"]
    assert run["status"] == "dry_run"
    counts = expected["counts"]
    assert run["counts"] == {"matched": counts["MATCHED"], "new": counts["NEW"],
                             "ambiguous": counts["AMBIGUOUS"], "invalid": counts["INVALID"]}


PARTIES = """
query($id: ID!) {
  importRun(id: $id) {
    partyCounts
    outcomes(first: 1) {
      nodes { parties { field column value relationship outcome partyName
                        party { class name } candidates { id } reason } }
    }
  }
}"""


def test_graphql_shows_the_people_and_teams_each_row_linked(live: LiveServer) -> None:
    run = gql_upload(live, IMPORT, GBK, dry=False).json()["data"]["importFile"]
    data = live.ok(PARTIES, {"id": run["id"]})["importRun"]
    # Three valid rows, each naming a person (责任人) and a team (部门) nobody registered.
    assert data["partyCounts"] == {"CREATED": 6}
    (first,) = data["outcomes"]["nodes"]
    assert first["parties"] == [
        {"field": "owner", "column": "责任人 (K)", "value": "张三", "relationship": "OWNED_BY",
         "outcome": "CREATED", "partyName": "张三", "party": {"class": "Person", "name": "张三"},
         "candidates": [], "reason": None},
        {"field": "department", "column": "部门 (L)", "value": "财务部",
         "relationship": "MANAGED_BY", "outcome": "CREATED", "partyName": "财务部",
         "party": {"class": "Team", "name": "财务部"}, "candidates": [], "reason": None}]
    again = gql_upload(live, IMPORT, GBK, dry=False).json()["data"]["importFile"]
    assert live.ok(PARTIES, {"id": again["id"]})["importRun"]["partyCounts"] == {
        "UNCHANGED": 6}
