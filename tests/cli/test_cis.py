"""`cmdb export`: a register imported from a GBK sheet, exported with filters as people
type them, read back by `cmdb import` without a change; the configuration list."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from cmdb.cli.main import main

HEADER = ("资产编号,名称,类别,品牌,型号,序列号,MAC地址,IP地址,主机名,位置,责任人,部门,"
          "购置日期,保修到期,状态,备注")
ROWS = [
    "BJ-0001,财务部打印机 ,打印机,惠普,LaserJet M404n,CNB1234567,3C-D9-2B-11-22-33,10.1.2.3,"
    "bj-prn-01,北京总部/3楼机房/A01机柜,张三,财务部,2023/5/6,2026年5月5日,在用,",
    "BJ-0002, 研发服务器,服务器,华为,RH2288H V5,2102311XYZ10K8000123,3cd9.2b11.2234,"
    '"10.1.2.4, fd00::4",BJ-SRV-02,北京总部/3楼机房/A02机柜,李四,研发部,2022.12.1,2025-12-01,'
    "维修中,=1+1",
    "SH-0001,上海核心交换机,交换机,H3C,S6850,219801A1XYZ,,10.2.0.1,sh-core-01,"
    "上海分部/2F机房,王五,网络部,2021年3月15日,,在用,",
    "BJ-0004,张伟的笔记本,笔记本电脑,联想,ThinkPad T14,PF3ABCDE,a4:bb:6d:01:02:03,,"
    "zhangwei-pc,北京总部,张伟,行政部,2023-06-01,,闲置,",
]
TAGS = {"BJ-0001", "BJ-0002", "SH-0001", "BJ-0004"}


def cmdb(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env={"USER": "wangfang"})


@pytest.fixture
def db(tmp_path: Path) -> Path:
    sheet = tmp_path / "资产台账.csv"
    sheet.write_bytes(("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("gbk"))
    path = tmp_path / "cmdb.sqlite3"
    done = cmdb("import", "csv", sheet, "--db", path, "--create", "--create-places")
    assert done.exit_code == 0, done.output
    return path


def read(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding))))


def tags(path: Path, encoding: str = "utf-8-sig") -> set[str]:
    return {r["资产编号"] for r in read(path, encoding) if r["资产编号"]}


def test_filters_as_people_type_them(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    for options, expected in [
        (["--class", "Hardware"], TAGS),
        (["--class", "服务器"], {"BJ-0002"}),
        (["--class", "打印机", "--class", "交换机"], {"BJ-0001", "SH-0001"}),
        (["--state", "在用"], {"BJ-0001", "SH-0001"}),
        (["--location", "北京总部/3楼机房"], {"BJ-0001", "BJ-0002"}),
        (["--location", "上海分部"], {"SH-0001"}),
        (["--owner", "张伟"], {"BJ-0004"}),
        (["--text", "BJ-000", "--state", "闲置"], {"BJ-0004"}),
        (["--attribute", "manufacturer=Huawei"], {"BJ-0002"}),
    ]:
        done = cmdb("export", "cis", "--db", db, *options, "-o", out)
        assert done.exit_code == 0, (options, done.output)
        assert tags(out) == expected, options
        assert f"Exported {len(read(out))} CIs" in done.output


def test_an_unknown_place_is_refused_and_no_file_is_left(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = cmdb("export", "cis", "--db", db, "--location", "广州分部/1楼", "-o", out)
    assert done.exit_code == 1
    assert "广州分部" in done.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]


@pytest.mark.parametrize(("name", "options"), [
    ("资产清单.csv", []), ("register.csv", ["--encoding", "gb18030", "--lang", "en"]),
    ("资产清单.xlsx", []), ("register.xlsx", ["--lang", "en"])])
def test_export_then_import_changes_nothing(db: Path, tmp_path: Path, name: str,
                                            options: list[str]) -> None:
    out = tmp_path / name
    done = cmdb("export", "cis", "--db", db, *options, "-o", out)
    assert done.exit_code == 0, done.output
    # The four assets, the 4 people and 4 teams the sheet named, the 6 places it made.
    assert "Exported 18 CIs" in done.output
    again = cmdb("import", out.suffix.lstrip("."), out, "--db", db, "--json")
    assert again.exit_code == 0, again.output
    run = json.loads(again.output[again.output.index("{"):])
    assert {k: n for k, n in run["counts"].items() if n} == {"MATCHED": 18}, run


def test_gb18030_and_english_headers(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "register.csv"
    assert cmdb("export", "cis", "--db", db, "--class", "服务器", "--encoding", "gb18030",
                "-o", out).exit_code == 0
    assert tags(out, "gb18030") == {"BJ-0002"}
    row = next(csv.DictReader(io.StringIO(out.read_bytes().decode("gb18030"))))
    assert (row["名称"], row["备注"]) == ("研发服务器", "'=1+1")
    assert cmdb("export", "cis", "--db", db, "--lang", "en", "--format", "xlsx", "-o",
                tmp_path / "en.bin").exit_code == 0
    ws = openpyxl.load_workbook(io.BytesIO((tmp_path / "en.bin").read_bytes())).active
    assert ws is not None
    assert [c.value for c in ws[1]][:4] == ["Asset tag", "Name", "Class", "State"]


def test_the_config_list(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "配置清单.xlsx"
    done = cmdb("export", "config-list", "--db", db, "-o", out)
    assert done.exit_code == 0, done.output
    wb = openpyxl.load_workbook(out)
    assert {"打印机", "服务器", "交换机", "笔记本电脑", "园区", "房间", "人员", "团队"} \
        <= set(wb.sheetnames)
    switch = [[c.value for c in row] for row in wb["交换机"].iter_rows()]
    assert switch[1][0] == "SH-0001"
    assert "位于: 2F机房" in switch[1][-2]


def test_help_names_the_options() -> None:
    done = cmdb("export", "cis", "--help")
    assert done.exit_code == 0
    for option in ("--class", "--state", "--location", "--owner", "--text", "--format",
                   "--encoding", "--lang", "--output"):
        assert option in done.output
    assert "configuration list" in cmdb("export", "config-list", "--help").output
