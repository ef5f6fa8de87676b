"""Unit tests of the value normalisers, placeholders and cell neutralisation."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from importers import Placeholders, default_placeholders, neutralise_cell, normalise_mac
from importers.normalise import (
    is_identifying_mac,
    parse_date,
    parse_datetime,
    split_location,
)
from importers.placeholders import IdentifyingField


@pytest.mark.parametrize(
    "raw",
    [
        "3C-D9-2B-11-22-33",
        "3c:d9:2b:11:22:33",
        "3cd9.2b11.2233",
        "3CD92B112233",
        " 3c-d9-2b-11-22-33 ",
    ],
)
def test_mac_forms_normalise_to_lowercase_colons(raw: str) -> None:
    assert normalise_mac(raw) == "3c:d9:2b:11:22:33"


def test_mac_single_digit_groups() -> None:
    assert normalise_mac("0:1b:2c:3:4:5") == "00:1b:2c:03:04:05"


@pytest.mark.parametrize("bad", ["zz:zz:zz", "3c:d9:2b:11:22", "3c:d9-2b:11:22:33", "", "1234"])
def test_bad_macs_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a MAC"):
        normalise_mac(bad)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023/5/6", date(2023, 5, 6)),
        ("2023-05-06", date(2023, 5, 6)),
        ("2023.5.6", date(2023, 5, 6)),
        ("2023年5月6日", date(2023, 5, 6)),
        ("２０２３年５月６日", date(2023, 5, 6)),
        ("20230506", date(2023, 5, 6)),
        ("2023-05-06T10:00:00", date(2023, 5, 6)),
        (45000, date(2023, 3, 15)),
        (45000.75, date(2023, 3, 15)),
        (datetime(2023, 5, 6, 8, 0), date(2023, 5, 6)),
    ],
)
def test_dates(raw: object, expected: date) -> None:
    assert parse_date(raw) == expected


def test_excel_1904_epoch() -> None:
    assert parse_date(0.5, epoch_1904=True) == date(1904, 1, 1)


def test_ambiguous_day_month_needs_an_order() -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        parse_date("5/6/2023")
    assert parse_date("5/6/2023", order="dmy") == date(2023, 6, 5)
    assert parse_date("5/6/2023", order="mdy") == date(2023, 5, 6)


def test_datetimes_with_time() -> None:
    assert parse_datetime("2024/5/6 14:35:10") == datetime(2024, 5, 6, 14, 35, 10)
    assert parse_datetime("2024年5月6日 14:35") == datetime(2024, 5, 6, 14, 35)


@pytest.mark.parametrize("bad", ["2023/13/45", "yesterday", "2023-02-30", True])
def test_bad_dates(bad: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - several distinct messages are all fine
        parse_date(bad)


def test_location_split() -> None:
    assert split_location("北京总部/3楼机房/A01机柜") == ["北京总部", "3楼机房", "A01机柜"]
    assert split_location(" HQ > Floor 3 \\ Rack 1 ") == ["HQ", "Floor 3", "Rack 1"]
    assert split_location("上海／2F") == ["上海", "2F"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 10", "'+86 10"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("＝1+1", "'＝1+1"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_neutralise_cell(raw: str, expected: str) -> None:
    assert neutralise_cell(raw) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("serial_number", "To be filled by O.E.M."),
        ("serial_number", "System Serial Number"),
        ("serial_number", "Default string"),
        ("serial_number", "0"),
        ("serial_number", "0000000"),
        ("serial_number", "  "),
        ("asset_tag", "无"),
        ("asset_tag", "N/A"),
        ("asset_tag", "na"),
        ("asset_tag", "None"),
        ("asset_tag", "-"),
        ("manufacturer", "Not Specified"),
        ("mac_address", "00:00:00:00:00:00"),
        ("mac_address", "FF:FF:FF:FF:FF:FF"),
        ("hostname", "localhost"),
        ("system_uuid", "03000200-0400-0500-0006-000700080009"),
    ],
)
def test_builtin_placeholders(field: IdentifyingField, value: str) -> None:
    assert default_placeholders().is_placeholder(field, value)


@pytest.mark.parametrize(
    ("field", "value"), [("serial_number", "CNB1234567"), ("asset_tag", "0001")]
)
def test_real_values_are_not_placeholders(field: IdentifyingField, value: str) -> None:
    assert not default_placeholders().is_placeholder(field, value)


def test_user_placeholder_file_extends_the_builtin(tmp_path: Path) -> None:
    extra = tmp_path / "mine.yaml"
    extra.write_text("serial_number: [待补录]\npatterns: ['^tmp-.*$']\n", encoding="utf-8")
    table = Placeholders.load(extra)
    assert table.is_placeholder("serial_number", "待补录")
    assert table.is_placeholder("asset_tag", "TMP-123")
    assert table.is_placeholder("serial_number", "To be filled by O.E.M.")


def test_bad_placeholder_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("colour: [red]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.yaml.*colour"):
        Placeholders.load(bad)


@pytest.mark.parametrize(("mac", "identifies"), [
    ("b8:ca:3a:6e:41:02", True),   # a Dell NIC
    ("00:50:56:9a:3c:11", True),   # a VMware VM: VMware's OUI is universally administered
    ("3c:d9:2b:11:22:33", True),   # an HP NIC
    ("00:1b:21:0a:0b:0c", True),
    ("02:42:ac:11:00:02", False),  # Docker: second hex digit 2
    ("52:54:00:12:34:56", False),  # QEMU/KVM default: 2
    ("06:00:00:00:00:01", False),  # 6
    ("0a:1b:2c:3d:4e:5f", False),  # A
    ("6e:1f:27:c4:9e:05", False),  # E: a random veth
    ("fe:ff:ff:ff:ff:ff", False),  # locally administered and multicast
    ("01:00:5e:00:00:fb", False),  # IPv4 multicast
    ("33:33:00:00:00:01", False),  # IPv6 multicast
    ("ff:ff:ff:ff:ff:ff", False),  # broadcast
    ("00:00:00:00:00:00", False),  # all zero
])
def test_which_macs_identify(mac: str, identifies: bool) -> None:
    assert is_identifying_mac(mac) is identifies


def test_a_sheets_local_mac_is_kept_and_flagged(tmp_path: Path) -> None:
    """A register's MAC column is the register's data: a locally administered MAC is
    kept, flagged NOT_IDENTIFYING."""
    from .helpers import run

    sheet = tmp_path / "macs.csv"
    sheet.write_text("资产编号,名称,类别,MAC地址\nBJ-1,容器主机,服务器,"
                     "\"02-42-AC-11-00-02, B8-CA-3A-6E-41-02\"\n", encoding="utf-8")
    (obs,), errors = run("csv", sheet)
    assert errors == []
    assert obs.mac_addresses == ["02:42:ac:11:00:02", "b8:ca:3a:6e:41:02"]
    assert [(f.field, f.code, f.value) for f in obs.flags] == [
        ("mac_addresses", "NOT_IDENTIFYING", "02:42:ac:11:00:02")]
