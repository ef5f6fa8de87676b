"""`cmdb import`: a refused file exits non-zero naming file, line, field; --json prints the run."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cmdb.cli.main import main

FIXTURES = Path(__file__).resolve().parents[1] / "importers" / "fixtures"


def test_import_refuses_then_applies_then_changes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    runner = CliRunner()
    sheet = str(FIXTURES / "inventory-gbk.csv")
    refused = runner.invoke(main, ["import", "csv", sheet, "--db", db, "--create-places",
                                   "--create"])
    assert refused.exit_code == 1
    assert "IMPORT_REJECTED" in refused.output
    assert "inventory-gbk.csv line 5 field mac_addresses" in " ".join(refused.output.split())
    preview = runner.invoke(main, ["import", "csv", sheet, "--db", db, "--dry-run", "--json",
                                   "--create-places", "--apply-valid-only"])
    assert preview.exit_code == 0, preview.output
    run = json.loads(preview.output)
    assert (run["status"], run["counts"]["NEW"]) == ("dry_run", 3)
    assert run["outcomes"][0]["creates"]["class_name"] == "Printer"
    applied = runner.invoke(main, ["import", "csv", sheet, "--db", db, "--create-places",
                                   "--apply-valid-only"])
    assert applied.exit_code == 0, applied.output
    assert "applied: 3 NEW, 1 INVALID" in applied.output
    # 责任人 and 部门 name three people and three teams nobody had registered.
    assert "people and teams: 6 CREATED" in applied.output
    again = runner.invoke(main, ["import", "csv", sheet, "--db", db, "--json",
                                 "--create-places", "--apply-valid-only"])
    assert json.loads(again.output)["counts"]["MATCHED"] == 3


def test_hostile_file_exits_non_zero_with_the_line(tmp_path: Path) -> None:
    bomb = str(FIXTURES / "hostile" / "billion-laughs.xml")
    result = CliRunner().invoke(main, ["import", "nmap", bomb, "--db",
                                       str(tmp_path / "x.sqlite3"), "--create"])
    assert result.exit_code == 1
    assert "IMPORT_FORBIDDEN_XML: billion-laughs.xml line 3" in " ".join(result.output.split())


def test_cli_register_in_chinese_then_agent_with_own_aliases(tmp_path: Path) -> None:
    """`cmdb import` of a register saying 宁畅 and an agent saying the vendor's legal name:
    one CI once CMDB_VENDORS_FILE names the vendor (the CMDB aligns what it holds when
    the next command opens it)."""
    from tests.services.cis.test_vendors import agent_file

    db = str(tmp_path / "cli.sqlite3")
    runner = CliRunner()
    sheet = tmp_path / "资产登记表.csv"
    sheet.write_bytes("资产编号,名称,类别,品牌,序列号\nBJ-0401,bj-nx-01,服务器, 宁畅 ,NX0042\n"
                      .encode("gb18030"))
    agent = str(agent_file(tmp_path, "Nettrix Information Industry (Beijing) Co., Ltd.",
                           "NX0042"))
    done = runner.invoke(main, ["import", "csv", str(sheet), "--db", db, "--create"])
    assert done.exit_code == 0, done.output
    unknown = runner.invoke(main, ["import", "glpi", agent, "--db", db, "--dry-run",
                                   "--json"])
    assert json.loads(unknown.output)["counts"]["NEW"] == 1  # nobody said 宁畅 is Nettrix
    mine = tmp_path / "vendors.yaml"
    mine.write_text("vendors:\n  Nettrix:\n    label: {en: Nettrix, zh-CN: 宁畅}\n",
                    encoding="utf-8")
    env = {"CMDB_VENDORS_FILE": str(mine)}
    known = runner.invoke(main, ["import", "glpi", agent, "--db", db, "--json"], env=env)
    assert known.exit_code == 0, known.output
    [out] = json.loads(known.output)["outcomes"]
    assert (out["outcome"], out["matched_by"]) == ("MATCHED_WITH_DIFFERENCES", "serial_number")
