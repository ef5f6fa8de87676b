"""The CMDB's clock: the time zone people work in, and times read and shown in it.

Times are stored in UTC (ISO 8601, ``+00:00``), so stored text sorts in time order and
compares across sources. People write and read local time: a time without an offset
(a sheet cell ``2026-07-10 10:03``, a scan, a form, a GraphQL input such as
``2026-07-10T10:03:00``) is read in the configured zone; a time with an offset keeps
its own. Pages, reports and the command line show times in the configured zone.

The zone is an IANA name (``Asia/Shanghai``, ``Europe/Berlin``); by default the
server's own zone. The zone data comes from the system or, where it has none, from
the ``tzdata`` package: nothing is fetched.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cmdb.errors import ValidationError

LOCALTIME = Path("/etc/localtime")
TIMEZONE_FILE = Path("/etc/timezone")


class UnknownZoneError(ValueError):
    """A time-zone name that is not an IANA zone this machine (or ``tzdata``) knows."""


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; :class:`UnknownZoneError` naming it when there is none."""
    text = name.strip()
    problem = "an empty name" if not text else None
    if problem is None and (text.startswith(("/", ".")) or ".." in text or "\\" in text):
        problem = "not a zone name"
    if problem is None:
        try:
            return ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            problem = "not a known zone"
    raise UnknownZoneError(f"unknown time zone {name!r} ({problem}): give an IANA name "
                           "such as Asia/Shanghai, Europe/Berlin or UTC")


def _name_from_path(path: str) -> str | None:
    """``Asia/Shanghai`` from ``/usr/share/zoneinfo/Asia/Shanghai`` (any zoneinfo folder)."""
    marker = "zoneinfo/"
    at = path.rfind(marker)
    if at < 0:
        return None
    name = path[at + len(marker):]
    for prefix in ("posix/", "right/"):
        name = name.removeprefix(prefix)
    return name or None


def system_zone_name() -> str:
    """The server's own zone as an IANA name: ``TZ``, else where ``/etc/localtime``
    points, else ``/etc/timezone``; ``UTC`` when none of them names a known zone."""
    candidates: list[str] = []
    tz = os.environ.get("TZ", "").strip().lstrip(":")
    if tz:
        candidates.append(_name_from_path(tz) or tz)
    with contextlib.suppress(OSError):
        candidates.append(_name_from_path(os.path.realpath(LOCALTIME)) or "")
    with contextlib.suppress(OSError):
        candidates.append(TIMEZONE_FILE.read_text(encoding="utf-8").strip())
    for name in candidates:
        if not name:
            continue
        try:
            load_zone(name)
        except UnknownZoneError:
            continue
        return name
    return "UTC"


def _offset_text(offset: timedelta | None) -> str:
    """``UTC+08:00``, ``UTC-03:30``, or ``UTC`` for no offset."""
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{mins:02d}"


class Clock:
    """The configured zone and the rules for times in it (one per CMDB, shared by the
    services, importers, pages, reports and command line)."""

    def __init__(self, name: str = "UTC") -> None:
        self.zone = load_zone(name)
        self.name = name.strip()

    @classmethod
    def system(cls) -> Clock:
        """The server's own zone (see :func:`system_zone_name`)."""
        return cls(system_zone_name())

    @property
    def fixed(self) -> bool:
        """Whether the zone keeps one offset all year (no summer time)."""
        year = datetime.now(UTC).year
        return datetime(year, 1, 1, tzinfo=self.zone).utcoffset() == \
            datetime(year, 7, 1, tzinfo=self.zone).utcoffset()

    @property
    def is_utc(self) -> bool:
        return self.fixed and not datetime(2000, 1, 1, tzinfo=self.zone).utcoffset()

    @property
    def label(self) -> str:
        """The zone as a page footer or report header says it once: ``Asia/Shanghai
        (UTC+08:00)``; a zone with summer time by its name alone (``Europe/Berlin``),
        since its offset depends on the date; ``UTC``."""
        if self.is_utc:
            return "UTC"
        if self.fixed:
            offset = datetime(2000, 1, 1, tzinfo=self.zone).utcoffset()
            return f"{self.name} ({_offset_text(offset)})"
        return self.name

    def now(self) -> datetime:
        """The current time in the zone."""
        return datetime.now(self.zone)

    def localize(self, value: datetime) -> datetime:
        """A time without an offset read in the zone (as people wrote it); a time with an
        offset is kept as it is. In a summer-time change, a wall time that happens twice
        is the first; one that never happens is read with the offset before the change."""
        return value if value.tzinfo is not None else value.replace(tzinfo=self.zone)

    def utc(self, value: datetime) -> datetime:
        """:meth:`localize`, then in UTC: the form every time is stored in."""
        try:
            return self.localize(value).astimezone(UTC)
        except OverflowError:
            raise ValidationError(f"the time {value.isoformat()} is out of range") from None

    def stamp(self, value: datetime) -> str:
        """The stored text of a time: ISO 8601 in UTC (``2026-07-10T02:03:00+00:00``)."""
        return self.utc(value).isoformat()

    def local(self, value: datetime | str) -> datetime:
        """A stored time (text or datetime) in the zone; stored text without an offset
        is UTC (the storage convention)."""
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(self.zone)

    def text(self, value: datetime | str | None, *, seconds: bool = False) -> str | None:
        """A stored time as people read it in the zone, without the zone's label (say it
        once nearby): ``2026-07-10 10:03``. Text that is no time is given back as it is."""
        if value is None or value == "":
            return None
        try:
            moment = self.local(value)
        except (ValueError, TypeError, OverflowError):
            return str(value)
        return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")

    def show(self, value: datetime | str | None) -> str | None:
        """A stored time in the zone with its offset at that moment:
        ``2026-07-10 10:03 (UTC+08:00)``; ``2026-07-10 02:03 (UTC)`` in UTC."""
        shown = self.text(value)
        if shown is None or value is None:
            return shown
        try:
            offset = self.local(value).utcoffset()
        except (ValueError, TypeError, OverflowError):
            return shown
        return f"{shown} ({_offset_text(offset)})"

    def __repr__(self) -> str:
        return f"Clock({self.name!r})"
