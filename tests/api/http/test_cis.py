"""``GET /cis/export`` over real HTTP with authentication on: a reader exports, the body
streams, the filter is checked first, and what comes out imports back unchanged."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from cmdb.model.access import Role
from tests.api.conftest import LiveServer, make_token, run_server, store_settings

CREATE = """mutation($input: CreateCIInput!) { createCI(input: $input) { id } }"""


@pytest.fixture(params=["sqlite", "neo4j"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    settings = store_settings(request, tmp_path)
    reader = make_token(settings, Role.READER, "finance-reader")
    for live in run_server(settings):
        yield live, reader


def create(live: LiveServer, cls: str, name: str, **fields: Any) -> str:
    data = live.ok(CREATE, {"input": {"class": cls, "name": name, **fields}})
    return str(data["createCI"]["id"])


def seed(live: LiveServer) -> None:
    site = create(live, "Site", "北京总部")
    room = create(live, "Room", "3楼机房", locationId=site)
    create(live, "Server", " 研发服务器 ", assetTag="BJ-0002", state="deployed",
           serialNumber="2102311XYZ", locationId=room,
           attributes={"manufacturer": "华为", "ip_addresses": ["10.1.2.4"],
                       "cpu_cores": 32, "note": "=HYPERLINK(\"http://evil.example/\")"})
    create(live, "Laptop", "张伟的笔记本", assetTag="BJ-0004", state="in_stock",
           locationId=site, attributes={"manufacturer": "联想"})


def rows(body: bytes, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode(encoding))))


def test_a_reader_exports_the_register_as_it_streams(
        server: tuple[LiveServer, str]) -> None:
    live, reader = server
    seed(live)
    headers = {"Authorization": f"Bearer {reader}"}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        with client.stream("GET", "/cis/export", headers=headers,
                           params={"class": "服务器"}) as r:
            assert r.status_code == 200, r.read()
            assert r.headers["content-type"] == "text/csv; charset=utf-8"
            assert "content-length" not in r.headers  # streamed, not built first
            assert "attachment" in r.headers["content-disposition"]
            body = r.read()
        got = rows(body)
        assert [(g["资产编号"], g["名称"], g["位置"], g["品牌"]) for g in got] == [
            ("BJ-0002", "研发服务器", "北京总部/3楼机房", "华为")]
        assert got[0]["备注"] == "'=HYPERLINK(\"http://evil.example/\")"
        every = client.get("/cis/export", headers=headers,
                           params={"lang": "en", "encoding": "gb18030",
                                   "location": "北京总部"})
        assert every.headers["content-type"] == "text/csv; charset=gb18030"
        assert {g["Asset tag"] for g in rows(every.content, "gb18030")} == {
            "BJ-0002", "BJ-0004", ""}
        book = client.get("/cis/export", headers=headers,
                          params={"format": "xlsx", "state": "库存"})
        assert book.status_code == 200
        ws = openpyxl.load_workbook(io.BytesIO(book.content)).active
        assert ws is not None
        assert [c.value for c in ws[2]][:2] == ["BJ-0004", "张伟的笔记本"]


def test_no_token_no_export_and_a_bad_filter_is_a_coded_400(
        server: tuple[LiveServer, str]) -> None:
    live, reader = server
    with httpx.Client(base_url=live.url, timeout=30) as client:
        assert client.get("/cis/export").status_code == 401
        headers = {"Authorization": f"Bearer {reader}"}
        for params, field in [({"state": "没有的状态"}, "state"),
                              ({"location": "广州分部"}, "location"),
                              ({"format": "pdf"}, "format")]:
            r = client.get("/cis/export", headers=headers, params=params)
            assert r.status_code == 400, r.text
            assert r.json()["code"] == "VALIDATION_ERROR"
            assert r.json()["details"]["field"] == field
        assert client.get("/healthz").status_code == 200


def test_what_is_exported_imports_back_unchanged(server: tuple[LiveServer, str]) -> None:
    live, _reader = server
    seed(live)
    for fmt in ("csv", "xlsx"):
        body = live.client.get("/cis/export", params={"format": fmt}).content
        files = {"file": (f"register.{fmt}", body)}
        for dry_run in ("true", "false"):
            # An import runs in a worker process: slow to start on a busy machine.
            r = live.client.post(f"/imports/{fmt}", data={"dryRun": dry_run}, files=files,
                                 timeout=180)
            assert r.status_code == 200, r.text
            counts = {k: n for k, n in r.json()["counts"].items() if n}
            assert counts == {"MATCHED": 4}, r.json()
