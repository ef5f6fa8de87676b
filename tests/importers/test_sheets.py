"""CSV / XLSX inventory sheets and inspection scans, from the fixtures in ``fixtures/``."""

from __future__ import annotations

from datetime import date, datetime
from ipaddress import ip_address
from pathlib import Path

import pytest

from importers import ColumnMapping, ImportFileError, ParseOptions

from .helpers import FIXTURES, run


def test_gbk_csv_with_chinese_headers() -> None:
    obs, _ = run("csv", FIXTURES / "inventory-gbk.csv")
    assert [o.asset_tag for o in obs] == ["BJ-0001", "BJ-0002", "BJ-0003"]
    first = obs[0]
    assert first.source == "csv"
    assert first.kind == "inventory"
    assert first.locator.file == "inventory-gbk.csv"
    assert (first.locator.line, first.locator.record) == (2, 1)
    assert first.name == "财务部打印机"
    assert first.class_hint == "打印机"
    assert first.state_hint == "在用"
    assert first.manufacturer == "惠普"
    assert first.model == "LaserJet M404n"
    assert first.serial_number == "CNB1234567"
    assert first.mac_addresses == ["3c:d9:2b:11:22:33"]
    assert first.ip_addresses == [ip_address("10.1.2.3")]
    assert first.hostnames == ["bj-prn-01"]
    assert first.location == ["北京总部", "3楼机房", "A01机柜"]
    assert (first.owner, first.department) == ("张三", "财务部")
    assert first.purchase_date == date(2023, 5, 6)
    assert first.warranty_end == date(2026, 5, 5)
    second = obs[1]
    assert second.mac_addresses == ["3c:d9:2b:11:22:34"]
    assert second.ip_addresses == [ip_address("10.1.2.4"), ip_address("fd00::4")]
    assert second.hostnames == ["bj-srv-02"]
    assert second.purchase_date == date(2022, 12, 1)
    assert second.note == "RAID 卡已更换"


def test_placeholders_become_none_and_are_flagged() -> None:
    obs, _ = run("csv", FIXTURES / "inventory-gbk.csv")
    third = obs[2]
    assert third.serial_number is None
    assert third.mac_addresses == []
    assert third.hostnames == []
    assert {(f.field, f.code) for f in third.flags} == {
        ("serial_number", "PLACEHOLDER"),
        ("mac_addresses", "PLACEHOLDER"),
        ("hostnames", "PLACEHOLDER"),
    }
    assert third.purchase_date == date(2021, 3, 15)


def test_bad_row_names_line_column_and_field() -> None:
    _, errors = run("csv", FIXTURES / "inventory-gbk.csv")
    by_field = {e.field: e for e in errors}
    assert set(by_field) == {"mac_addresses", "ip_addresses", "purchase_date"}
    mac = by_field["mac_addresses"]
    assert (mac.file, mac.line, mac.record) == ("inventory-gbk.csv", 5, 4)
    assert mac.column == "MAC地址 (G)"
    assert mac.value == "zz:zz:zz"
    assert by_field["ip_addresses"].value == "10.1.2.300"
    assert by_field["purchase_date"].column == "购置日期 (M)"
    assert "inventory-gbk.csv line 5" in str(mac)


def test_utf8_bom_csv_with_english_headers() -> None:
    obs, errors = run("csv", FIXTURES / "inventory-utf8-bom.csv")
    assert errors == []
    first, second = obs
    assert first.asset_tag == "NY-100"
    assert first.hostnames == ["ny-rcp-01.example.com"]
    assert first.location == ["New York", "Floor 1", "Reception"]
    assert first.note == '=HYPERLINK("x")'
    assert [(f.field, f.code) for f in first.flags] == [("note", "FORMULA_TEXT")]
    assert second.note == "-"
    assert second.flags == []


def test_encoding_option_overrides_the_cascade() -> None:
    with pytest.raises(ImportFileError) as info:
        list(run("csv", FIXTURES / "inventory-gbk.csv", ParseOptions(encoding="utf-8"))[0])
    assert info.value.code == "IMPORT_BAD_ENCODING"
    assert info.value.line == 1
    obs, _ = run("csv", FIXTURES / "inventory-gbk.csv", ParseOptions(encoding="gbk"))
    assert obs[0].name == "财务部打印机"


def test_utf16_tab_separated_as_excel_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("资产编号\t名称\r\nT-1\t显示器\r\n".encode("utf-16"))
    obs, errors = run("csv", path)
    assert errors == []
    assert (obs[0].asset_tag, obs[0].name) == ("T-1", "显示器")


def test_excel_sep_hint_and_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("sep=;\nAsset Tag;Name\nS-1;Monitor\n", encoding="utf-8")
    obs, _ = run("csv", path)
    assert (obs[0].asset_tag, obs[0].locator.line) == ("S-1", 3)


def test_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError) as info:
        run("csv", FIXTURES / "inventory-custom-headers.csv")
    assert info.value.code == "IMPORT_UNKNOWN_HEADER"
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        "columns:\n  设备编码: asset_tag\n  IMEI: attributes.imei\n  内部编号: ignore\n",
        encoding="utf-8",
    )
    options = ParseOptions(mapping=ColumnMapping.load(mapping_file))
    obs, errors = run("csv", FIXTURES / "inventory-custom-headers.csv", options)
    assert errors == []
    assert obs[0].asset_tag == "M-1"
    assert obs[0].name == "手机"
    assert obs[0].attributes == {"imei": "356938035643809"}


def test_mapping_unknown_headers_to_attributes(tmp_path: Path) -> None:
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text("columns:\n  设备编码: asset_tag\nunknown_headers: attributes\n")
    options = ParseOptions(mapping=ColumnMapping.load(mapping_file))
    obs, _ = run("csv", FIXTURES / "inventory-custom-headers.csv", options)
    assert obs[0].attributes == {"IMEI": "356938035643809", "内部编号": "x1"}


def test_bad_mapping_file_is_named(tmp_path: Path) -> None:
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text("columns:\n  设备编码: colour\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"mapping\.yaml.*colour"):
        ColumnMapping.load(mapping_file)


def test_duplicate_scalar_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("资产编号,Asset Tag\nA,B\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="both map to asset_tag") as info:
        run("csv", path)
    assert info.value.code == "IMPORT_BAD_HEADER"


def test_row_without_identifier_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "noid.csv"
    path.write_text("Asset Tag,Category\n,Laptop\n", encoding="utf-8")
    _, errors = run("csv", path)
    assert len(errors) == 1
    assert "no identifying value" in errors[0].message


def test_xlsx_dates_serials_and_formulas() -> None:
    obs, errors = run("xlsx", FIXTURES / "inventory.xlsx")
    assert errors == []
    assert [o.asset_tag for o in obs] == ["SH-0001", "SH-0002", "SH-0003"]
    first, second, third = obs
    assert first.locator.sheet == "资产清单"
    assert first.locator.line == 2
    assert first.name == "=1+1"
    assert ("name", "FORMULA_TEXT") in {(f.field, f.code) for f in first.flags}
    assert first.purchase_date == date(2023, 5, 6)
    assert first.warranty_end == date(2025, 12, 9)
    assert first.mac_addresses == ["3c:d9:2b:aa:bb:cc"]
    assert second.serial_number == "123456789012"
    assert second.purchase_date == date(2023, 5, 6)
    assert second.warranty_end == date(2026, 5, 6)
    assert third.locator.line == 5
    assert third.purchase_date == date(2023, 3, 15)
    assert third.note == "@SUM(A1)"


def test_scans_csv() -> None:
    obs, errors = run("scans", FIXTURES / "scans.csv")
    assert [o.asset_tag for o in obs] == ["BJ-0001", "BJ-0002"]
    scan = obs[1]
    assert scan.kind == "inspection"
    assert scan.auditor == "陈七"
    assert scan.seen_at == datetime(2024, 5, 6, 14, 35, 10)
    assert scan.condition == "外壳破损"
    assert scan.location == ["北京总部", "3楼机房", "A03机柜"]
    assert scan.note == "位置变更"
    assert len(errors) == 1
    assert (errors[0].line, errors[0].field) == (4, "asset_tag")


def test_scans_need_an_asset_tag_column(tmp_path: Path) -> None:
    path = tmp_path / "scan.csv"
    path.write_text("位置,盘点人\n北京,陈七\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="no asset tag column"):
        run("scans", path)
