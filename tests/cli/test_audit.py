"""``cmdb audit`` end to end on a SQLite file: create, open, scans (``cmdb import scans
--campaign``, then ``cmdb audit scans``: nothing new; a file naming a place that is not
registered refused by both), health, status, close, report
(CSV and PDF)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pypdfium2
from click.testing import CliRunner

from cmdb.cli.main import main
from cmdb.model.records import Actor
from cmdb.root import connect
from cmdb.settings import Settings
from tests.services.audit.estate import build_estate, write_scans


def test_audit_commands(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"

    async def seed() -> None:
        cmdb = connect(Settings(store_url=f"sqlite:///{db}"))
        await cmdb.open()
        try:
            await build_estate(cmdb, Actor(name="seed"))
        finally:
            await cmdb.close()

    asyncio.run(seed())
    scans = write_scans(tmp_path)
    r = CliRunner()

    def ok(*args: str) -> str:
        result = r.invoke(main, [*args, "--db", str(db)])
        assert result.exit_code == 0, result.output
        return result.output

    ok("audit", "create", "2026 H2", "--place", "北京总部", "--class", "Server",
       "--auditor", "陈七")
    ok("audit", "open", "2026 H2")
    imported = ok("import", "scans", str(scans), "--campaign", "2026 H2")
    assert "5 sightings recorded, 0 already known, 1 outside every open campaign" in imported
    assert "0 sightings recorded, 5 already known" in ok("audit", "scans", "2026 H2",
                                                         str(scans))
    mars = tmp_path / "盘点-火星.csv"
    mars.write_text("资产编号,位置,盘点人,盘点时间\nBJ-0001,北京总部/3楼机房/A01机柜,陈七,"
                    "2026-07-06 16:00\nBJ-0002,火星基地／不存在的机房,陈七,2026-07-06 16:05\n",
                    encoding="gbk")
    for command in (["audit", "scans", "2026 H2"], ["import", "scans"]):
        refused = r.invoke(main, [*command, str(mars), "--db", str(db)])
        assert refused.exit_code == 1, refused.output
        assert "盘点-火星.csv line 3" in refused.output
        assert "'火星基地' is not registered" in refused.output
    health = json.loads(ok("audit", "health", "--json", "--limit", "3"))
    # BJ-0001, BJ-0006 verified; the rest of the hardware was never audited
    assert health["never_audited_count"] == 9
    assert len(health["never_audited"]) == 3
    assert health["last_campaign"] == "2026 H2"
    assert "never audited: 9" in ok("audit", "health")
    status = json.loads(ok("audit", "status", "2026 H2", "--json"))
    assert status["findings"]["MISPLACED"] == {"open": 1}
    refused = r.invoke(main, ["audit", "close", "2026 H2", "--db", str(db)])
    assert refused.exit_code == 1
    assert "LEAVE_OPEN" in refused.output
    ok("audit", "close", "2026 H2", "--open-findings", "carry-over")
    ok("audit", "report", "2026 H2", "-o", str(tmp_path / "r.pdf"))
    ok("audit", "report", "2026 H2", "-o", str(tmp_path / "en.pdf"), "--lang", "en")
    ok("audit", "report", "2026 H2", "-o", str(tmp_path / "r.csv"))
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    zh, en = (pdf_text(tmp_path / name) for name in ("r.pdf", "en.pdf"))
    assert "转入下次" in zh  # a carried-over finding, by default in Chinese
    assert "第 1 页 / 共 1 页" in zh
    assert "Carried over" in en
    assert "Page 1 of 1" in en
    assert "MISSING,carried" in (tmp_path / "r.csv").read_text(encoding="utf-8")


def pdf_text(path: Path) -> str:
    doc = pypdfium2.PdfDocument(path.read_bytes())
    return " ".join(" ".join(doc[i].get_textpage().get_text_range().split())
                    for i in range(len(doc)))
