"""Times without an offset in files are local time of the configured zone (``zone`` in
ParseOptions); times with an offset keep theirs; both come out in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from importers import ColumnMapping, ParseOptions

from .helpers import FIXTURES, run

BEIJING = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_scan_times_are_read_in_the_zone() -> None:
    """The fixture's scans were taken in Beijing: 2024/5/6 14:35:10 is 06:35:10 UTC."""
    obs, _ = run("scans", FIXTURES / "scans.csv", ParseOptions(zone=BEIJING))
    assert [o.seen_at for o in obs] == [datetime(2024, 5, 6, 6, 30, tzinfo=UTC),
                                        datetime(2024, 5, 6, 6, 35, 10, tzinfo=UTC)]
    # without a zone (the library's default) the time is left as written
    plain, _ = run("scans", FIXTURES / "scans.csv")
    assert plain[0].seen_at == datetime(2024, 5, 6, 14, 30)


def test_scans_with_an_offset_keep_it_and_summer_time_counts(tmp_path: Path) -> None:
    path = tmp_path / "scans.csv"
    path.write_text("资产编号,位置,盘点人,盘点时间,状况\n"
                    "BJ-0001,北京总部/3楼机房/A01机柜,陈七,2026-07-10T10:03:00+09:00,完好\n"
                    "BJ-0002,北京总部/3楼机房/A01机柜,陈七,2026年7月10日 10时03分,完好\n"
                    "BJ-0003,北京总部/3楼机房/A01机柜,陈七,2026-01-10 10:03,完好\n",
                    encoding="utf-8")
    obs, errors = run("scans", path, ParseOptions(zone=BERLIN))
    assert errors == []
    assert [o.seen_at for o in obs] == [
        datetime(2026, 7, 10, 1, 3, tzinfo=UTC),   # its own +09:00
        datetime(2026, 7, 10, 8, 3, tzinfo=UTC),   # Berlin summer: UTC+2
        datetime(2026, 1, 10, 9, 3, tzinfo=UTC)]   # Berlin winter: UTC+1


def test_xlsx_date_time_cells_are_read_in_the_zone(tmp_path: Path) -> None:
    """An inventory workbook as Excel saves it: a real date-time cell, and the same time
    typed as text the way people in China write it."""
    wb = Workbook()
    ws = wb.active
    ws.append(["资产编号", "名称", "类别", "盘点时间"])
    ws.append(["BJ-0001", "bj-srv-01", "服务器", datetime(2026, 7, 10, 10, 3)])
    ws["D2"].number_format = "yyyy/m/d h:mm"
    ws.append(["BJ-0002", "bj-srv-02", "服务器", "2026/7/10 10:03"])
    path = tmp_path / "盘点.xlsx"
    wb.save(path)
    mapping = ColumnMapping(columns={"盘点时间": "seen_at"})
    obs, errors = run("xlsx", path, ParseOptions(mapping=mapping, zone=BEIJING))
    assert errors == []
    assert [o.seen_at for o in obs] == [datetime(2026, 7, 10, 2, 3, tzinfo=UTC)] * 2


def test_agent_logdate_is_local_time() -> None:
    """The FusionInventory agent writes LOGDATE in the inventoried machine's local time."""
    (inv,), _ = run("glpi", FIXTURES / "glpi-vm.xml", ParseOptions(zone=BEIJING))
    assert inv.seen_at == datetime(2026, 11, 24, 20, 10, 46, tzinfo=UTC)


def test_nmap_unix_times_are_not_moved() -> None:
    (host,), _ = run("nmap", FIXTURES / "nmap-localhost-v4.xml", ParseOptions(zone=BEIJING))
    assert host.seen_at == datetime.fromtimestamp(1795579914, tz=UTC)
