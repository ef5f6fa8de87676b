"""Reconciliation compares only what differs, but keeps every rule for what it changes."""

from __future__ import annotations

from pathlib import Path

from cmdb.model.records import Actor
from cmdb.services import Cmdb
from tests.services.imports.test_imports import by_tag, outcomes, run, run_gbk


async def test_identity_rules_hold_for_what_a_sheet_changes(cmdb: Cmdb, tmp_path: Path) -> None:
    await run_gbk(cmdb)
    sheet = tmp_path / "names.csv"
    sheet.write_text("资产编号,名称,类别,序列号\n"
                     f"BJ-0001,{'长' * 201},打印机,CNB1234567\n"
                     f"BJ-0002,研发服务器,服务器,SN{'9' * 130}\n"
                     "BJ-0003,接入交换机-2,网络设备,\n", encoding="utf-8")
    second = await run(cmdb, "csv", sheet, apply_valid_only=True)
    rows = {o["line"]: o for o in await outcomes(cmdb, second)}
    assert (rows[2]["outcome"], rows[2]["field"]) == ("INVALID", "name")
    assert rows[2]["reason"] == "name: name is longer than 200 characters"
    assert (rows[3]["outcome"], rows[3]["field"]) == ("INVALID", "serial_number")
    assert rows[3]["reason"] == "serial_number: serial number is longer than 128 characters"
    assert rows[4]["outcome"] == "MATCHED_WITH_DIFFERENCES"
    assert (await by_tag(cmdb, "BJ-0003")).name == "接入交换机-2"
    assert (await by_tag(cmdb, "BJ-0001")).name == "财务部打印机"


async def test_a_value_equal_to_the_register_is_not_a_difference_however_written(
        cmdb: Cmdb, actor: Actor, tmp_path: Path) -> None:
    """A registered host name is lower case; the sheet's upper case one is the same."""
    await run_gbk(cmdb)
    sheet = tmp_path / "hosts.csv"
    sheet.write_text("资产编号,名称,类别,主机名,购置日期\n"
                     "BJ-0001,财务部打印机,打印机,BJ-PRN-01,2023-05-06\n", encoding="utf-8")
    again = await run(cmdb, "csv", sheet)
    [row] = await outcomes(cmdb, again)
    assert (row["outcome"], row["differences"]) == ("MATCHED", [])
