"""`cmdb labels`: PDF and ZPL files from a real SQLite CMDB, recorded as printed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from click.testing import CliRunner, Result

from cmdb.cli.main import main
from cmdb.model.records import CI, Actor, Channel
from cmdb.root import connect
from cmdb.settings import Settings

BASE = "https://cmdb.example.cn"
TAGS = ["ZC-0001", "ZC-0002", "资产-0003"]


async def _seed(db: Path) -> None:
    cmdb = connect(Settings(store_url=f"sqlite:///{db}"))
    await cmdb.open()
    try:
        actor = Actor(name="setup", channel=Channel.DEMO)
        room = await cmdb.cis.create(actor, {"class_name": "Room", "name": "3楼机房"})
        for tag, cls, name in zip(TAGS, ["Server", "Server", "Laptop"],
                                  ["bj-srv-01", "bj-srv-02", "张伟的笔记本"], strict=True):
            await cmdb.cis.create(actor, {"class_name": cls, "name": name, "asset_tag": tag,
                                          "state": "deployed", "location_id": room.id})
        await cmdb.cis.create(actor, {"class_name": "Server", "name": "no-tag",
                                      "state": "deployed"})
    finally:
        await cmdb.close()


async def _read(db: Path) -> dict[str, CI]:
    cmdb = connect(Settings(store_url=f"sqlite:///{db}"))
    await cmdb.open()
    try:
        return {ci.asset_tag or ci.name: ci async for ci in cmdb.store.iter_all("cis")}
    finally:
        await cmdb.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cmdb.sqlite3"
    asyncio.run(_seed(path))
    return path


def cmdb(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args],
                              env={"CMDB_PUBLIC_BASE_URL": BASE, "USER": "wangfang",
                                   "LOGNAME": "wangfang"})


def qr_payloads(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [b.text for page in doc
                for b in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())]
    finally:
        doc.close()


def test_help_explains_the_options() -> None:
    result = cmdb("labels", "--help")
    assert result.exit_code == 0
    for option in ("--template", "--tag", "--class", "--state", "--location",
                   "--never-printed", "--start-offset", "--format", "--no-record", "--output"):
        assert option in result.output, option


def test_a_filter_writes_a_pdf_and_records_printing(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels.pdf"
    result = cmdb("labels", "--db", db, "--class", "硬件", "--never-printed", "--state", "在用",
                  "--start-offset", "20", "-o", out)
    assert result.exit_code == 0, result.output
    assert "Wrote 3 labels (avery-l7160, 2 pages)" in result.stderr
    assert "Skipping 1 CI without an asset tag" in result.stderr
    assert sorted(qr_payloads(out.read_bytes())) == sorted(
        [f"{BASE}/a/ZC-0001", f"{BASE}/a/ZC-0002", f"{BASE}/a/%E8%B5%84%E4%BA%A7-0003"])
    cis = asyncio.run(_read(db))
    for tag in TAGS:
        assert cis[tag].attributes["label_printed_by"] == "wangfang"
        assert cis[tag].version == 2
    again = cmdb("labels", "--db", db, "--class", "Hardware", "--never-printed", "-o", out)
    assert again.exit_code == 1
    assert "NOT_FOUND" in again.stderr


def test_tags_as_zpl_without_recording(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "labels.zpl"
    result = cmdb("labels", "--db", db, "--tag", "资产-0003", "--tag", "ZC-0001", "--dpi", "300",
                  "--no-record", "-o", out)
    assert result.exit_code == 0, result.output
    zpl = out.read_text(encoding="utf-8")
    assert zpl.count("^XA") == 2
    assert zpl.index("%E8%B5%84%E4%BA%A7-0003") < zpl.index("/a/ZC-0001"), "in the order given"
    assert "label_printed_at" not in asyncio.run(_read(db))["ZC-0001"].attributes


@pytest.mark.parametrize(("args", "code", "says"), [
    (["--tag", "ZC-0001"], 2, "-o FILE"),
    (["--tag", "ZC-0001", "--class", "Server", "-o", "x.pdf"], 2, "one way"),
    (["-o", "x.pdf"], 2, "what to print"),
    (["--tag", "NOPE", "-o", "x.pdf"], 1, "NOT_FOUND"),
    (["--tag", "ZC-0001", "-t", "no-such-stock", "-o", "x.pdf"], 1, "TEMPLATE_NOT_FOUND"),
])
def test_mistakes_are_explained(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                args: list[str], code: int, says: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = cmdb("labels", "--db", db, *args)
    assert result.exit_code == code, result.output
    assert says in result.output + result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_list_templates() -> None:
    result = cmdb("labels", "--list-templates")
    assert result.exit_code == 0
    assert "avery-l7160          3 x 7    63.5 x 38.1 mm" in result.output
    assert "brother-dk-62x29     roll" in result.output


def test_the_installed_command_writes_a_pdf_to_stdout(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cmdb.cli.main", "labels", "--db", str(db), "--tag", "ZC-0002",
         "-t", "brother-dk-62x29", "-o", "-"],
        capture_output=True, timeout=120, check=False,
        env={**os.environ, "CMDB_PUBLIC_BASE_URL": BASE},
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.startswith(b"%PDF-")
    assert qr_payloads(done.stdout) == [f"{BASE}/a/ZC-0002"]
    assert b"Recorded as printed" in done.stderr
