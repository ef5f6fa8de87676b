"""The clock: times people write without an offset read in the configured zone, stored in
UTC, shown in the zone; unknown zones refused; summer time; zone data without the system's."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cmdb.errors import ValidationError
from cmdb.model.attributes import check_attributes
from cmdb.model.clock import Clock, UnknownZoneError, load_zone, system_zone_name
from cmdb.model.registry import Registry
from cmdb.settings import Settings

BEIJING = Clock("Asia/Shanghai")
BERLIN = Clock("Europe/Berlin")


def test_a_beijing_scan_time_is_stored_in_utc_and_shown_in_beijing_time() -> None:
    scanned = datetime(2026, 7, 10, 10, 3)  # "2026-07-10 10:03" as a scanner writes it
    assert BEIJING.stamp(scanned) == "2026-07-10T02:03:00+00:00"
    assert BEIJING.text("2026-07-10T02:03:00+00:00") == "2026-07-10 10:03"
    assert BEIJING.show("2026-07-10T02:03:00+00:00") == "2026-07-10 10:03 (UTC+08:00)"
    assert BEIJING.label == "Asia/Shanghai (UTC+08:00)"


def test_a_time_with_an_offset_keeps_it() -> None:
    tokyo = datetime(2026, 7, 10, 10, 3, tzinfo=timezone(timedelta(hours=9)))
    assert BEIJING.localize(tokyo) is tokyo
    assert BEIJING.stamp(tokyo) == "2026-07-10T01:03:00+00:00"
    assert BEIJING.stamp(datetime(2026, 7, 10, 2, 3, tzinfo=UTC)) == "2026-07-10T02:03:00+00:00"
    # stored text with an offset other than UTC (older data) is shown in the zone too
    assert BEIJING.text("2025-03-01T09:30:00+09:00") == "2025-03-01 08:30"


def test_summer_time_is_read_by_the_date() -> None:
    """Europe/Berlin: UTC+2 in summer, UTC+1 in winter; the changes themselves."""
    assert BERLIN.stamp(datetime(2026, 7, 10, 10, 3)) == "2026-07-10T08:03:00+00:00"
    assert BERLIN.stamp(datetime(2026, 1, 10, 10, 3)) == "2026-01-10T09:03:00+00:00"
    assert BERLIN.show("2026-07-10T08:03:00+00:00") == "2026-07-10 10:03 (UTC+02:00)"
    assert BERLIN.show("2026-01-10T09:03:00+00:00") == "2026-01-10 10:03 (UTC+01:00)"
    # 2026-10-25 02:30 happens twice (clocks go back at 03:00): the first, summer one
    assert BERLIN.stamp(datetime(2026, 10, 25, 2, 30)) == "2026-10-25T00:30:00+00:00"
    # 2026-03-29 02:30 never happens (clocks jump from 02:00 to 03:00): read as winter time
    assert BERLIN.stamp(datetime(2026, 3, 29, 2, 30)) == "2026-03-29T01:30:00+00:00"
    # an hour after the change is winter time again
    assert BERLIN.stamp(datetime(2026, 10, 25, 3, 30)) == "2026-10-25T02:30:00+00:00"
    # a zone with summer time is named without an offset (it depends on the date)
    assert BERLIN.label == "Europe/Berlin"
    assert not BERLIN.fixed
    assert BEIJING.fixed


def test_utc_is_labelled_utc() -> None:
    clock = Clock("UTC")
    assert clock.is_utc
    assert clock.label == "UTC"
    assert clock.show("2026-07-10T02:03:00+00:00") == "2026-07-10 02:03 (UTC)"


def test_stored_text_without_an_offset_is_utc_and_junk_is_shown_as_it_is() -> None:
    assert BEIJING.text("2026-07-10T02:03:00") == "2026-07-10 10:03"
    assert BEIJING.text("not a time") == "not a time"
    assert BEIJING.text(None) is None
    assert BEIJING.show("") is None
    assert BEIJING.text("2026-07-10T02:03:04+00:00", seconds=True) == "2026-07-10 10:03:04"


@pytest.mark.parametrize("name", ["Asia/Shangai", "Mars/Olympus_Mons", "", "   ",
                                  "../../etc/passwd", "/etc/localtime", "CST+8"])
def test_unknown_zones_are_refused_by_name(name: str) -> None:
    with pytest.raises(UnknownZoneError, match=r"unknown time zone .*Asia/Shanghai"):
        load_zone(name)
    if name.strip():
        with pytest.raises(ValueError, match="unknown time zone"):
            Settings(time_zone=name)


def test_settings_clock_and_the_server_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(time_zone=" Asia/Shanghai ").clock().name == "Asia/Shanghai"
    monkeypatch.setenv("CMDB_TIME_ZONE", "Europe/Berlin")
    assert Settings().clock().label == "Europe/Berlin"
    monkeypatch.delenv("CMDB_TIME_ZONE")
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    assert system_zone_name() == "Asia/Shanghai"
    assert Settings().clock().name == "Asia/Shanghai"
    monkeypatch.setenv("TZ", ":/usr/share/zoneinfo/Europe/Berlin")
    assert system_zone_name() == "Europe/Berlin"


def test_out_of_range_times_are_refused() -> None:
    with pytest.raises(ValidationError, match="out of range"):
        BEIJING.stamp(datetime.min)


@pytest.fixture
def no_system_zone_data() -> Iterator[None]:
    """As on a slim container or Windows: no zoneinfo folder, only the tzdata package."""
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()


@pytest.mark.usefixtures("no_system_zone_data")
def test_zones_load_without_the_systems_zone_data() -> None:
    assert zoneinfo.TZPATH == ()
    clock = Clock("Asia/Shanghai")
    assert clock.stamp(datetime(2026, 7, 10, 10, 3)) == "2026-07-10T02:03:00+00:00"
    assert Clock("Europe/Berlin").stamp(datetime(2026, 1, 10, 10, 3)) == \
        "2026-01-10T09:03:00+00:00"


def test_a_datetime_attribute_without_an_offset_is_read_in_the_zone(
        registry: Registry) -> None:
    info = registry.class_info("Server")
    checked = check_attributes(info, {"last_audited_at": "2026-07-10T10:03:00"},
                               complete=False, zone=BEIJING.zone)
    assert checked == {"last_audited_at": "2026-07-10T02:03:00+00:00"}
    kept = check_attributes(info, {"last_audited_at": "2026-07-10T10:03:00+09:00"},
                            complete=False, zone=BEIJING.zone)
    assert kept == {"last_audited_at": "2026-07-10T01:03:00+00:00"}
