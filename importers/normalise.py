"""Value normalisers shared by every importer: MAC, IP, dates, location paths, cell safety."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Literal

DateOrder = Literal["ymd", "dmy", "mdy"]

_HEX12 = re.compile(r"^[0-9a-f]{12}$")
_MAC_SPLIT = re.compile(r"^[0-9a-f]{1,2}([:\-])(?:[0-9a-f]{1,2}\1){4}[0-9a-f]{1,2}$")
_MAC_CISCO = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")


def normalise_mac(value: str) -> str:
    """Return a MAC in lowercase colon form (``3c:d9:2b:11:22:33``).

    Accepts ``3C-D9-2B-11-22-33``, ``3c:d9:2b:11:22:33``, ``3cd9.2b11.2233``,
    ``3CD92B112233`` and single-digit groups (``0:1b:...``, as macOS prints).
    Raises ``ValueError`` for anything else.
    """
    text = value.strip().lower()
    if _MAC_SPLIT.match(text):
        groups = re.split(r"[:\-]", text)
        hexes = "".join(g.rjust(2, "0") for g in groups)
    elif _MAC_CISCO.match(text):
        hexes = text.replace(".", "")
    elif _HEX12.match(text):
        hexes = text
    else:
        raise ValueError(f"not a MAC address: {value!r}")
    return ":".join(hexes[i : i + 2] for i in range(0, 12, 2))


def is_identifying_mac(mac: str) -> bool:
    """Say whether a MAC (lowercase colon form) can identify a machine: a universally
    administered unicast address, whatever the interface (a bond, bridge or VLAN carries
    its physical NIC's; ``00:50:56`` of a VMware VM is one too). A locally administered
    address (second hex digit 2, 6, A or E: containers, ``02:42:..`` of Docker, random
    MACs), a multicast one (lowest bit of the first octet) or all zeros never does."""
    try:
        first = int(mac[:2], 16)
    except ValueError:
        return False
    return not (first & 0b11) and mac != "00:00:00:00:00:00"


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(value: str) -> IPAddress:
    """Parse one IPv4/IPv6 address; a CIDR suffix (``10.0.0.5/24``) is dropped."""
    text = value.strip()
    if "/" in text:
        text = text.split("/", 1)[0]
    return ipaddress.ip_address(text)


def is_identifying_ip(addr: IPAddress) -> bool:
    """Say whether an address can identify a machine (not loopback, link-local, …)."""
    return not (addr.is_loopback or addr.is_link_local or addr.is_unspecified or addr.is_multicast)


_SPLIT_LIST = re.compile(r"[,;，；、\s]+")


def split_list(value: str) -> list[str]:
    """Split a multi-value cell (``a, b; c``, also Chinese separators) into parts."""
    return [part for part in _SPLIT_LIST.split(value.strip()) if part]


_LOCATION_SPLIT = re.compile(r"\s*(?:/|\\|>|／|＞|》|\|)\s*")


def split_location(value: str) -> list[str]:
    """Split a location path like ``北京总部/3楼机房/A01机柜`` into its segments."""
    return [seg for seg in _LOCATION_SPLIT.split(value.strip()) if seg]


_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_XYZ = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_TIME = re.compile(r"^(\d{1,2})[:时](\d{1,2})(?:分|[:分](\d{1,2})(?:\.(\d{1,6}))?秒?)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def excel_serial_to_datetime(serial: float, *, epoch_1904: bool = False) -> datetime:
    """Convert an Excel serial day number to a naive datetime (1900 or 1904 system).

    Serials below 61 in the 1900 system follow Excel's fictitious 1900-02-29.
    """
    if not 0 < serial < 2958466:
        raise ValueError(f"Excel serial out of range: {serial!r}")
    if epoch_1904:
        base = datetime(1904, 1, 1)
    elif serial < 61:
        base = datetime(1899, 12, 31)
    else:
        base = datetime(1899, 12, 30)
    return base + timedelta(days=serial)


def _date_parts(text: str, order: DateOrder) -> date:
    """Parse the date part of a spreadsheet date string."""
    m = _YMD.match(text) or _COMPACT.match(text)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _XYZ.match(text)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if order == "dmy":
            return date(year, b, a)
        if order == "mdy":
            return date(year, a, b)
        raise ValueError(f"ambiguous date {text!r}: set date_order to 'dmy' or 'mdy'")
    raise ValueError(f"not a date: {text!r}")


def parse_datetime(
    value: object, *, order: DateOrder = "ymd", epoch_1904: bool = False
) -> datetime:
    """Parse a spreadsheet or log timestamp into a datetime (naive unless an offset is given).

    Accepts datetime/date objects, Excel serials (int/float, XLSX only), ISO 8601,
    ``2023/5/6 14:30``, ``2023.5.6``, ``2023年5月6日 14时30分`` and ``20230506``.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, int | float):
        return excel_serial_to_datetime(float(value), epoch_1904=epoch_1904)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    date_text, _, time_text = text.replace("T", " ").partition(" ")
    if "日" in text and not time_text:
        date_text, sep, time_text = text.partition("日")
        date_text += sep
    day = _date_parts(date_text.strip(), order)
    time_text = time_text.strip()
    if not time_text:
        return datetime(day.year, day.month, day.day)
    t = _TIME.match(time_text)
    if not t:
        raise ValueError(f"not a time: {time_text!r}")
    micro = int((t.group(4) or "0").ljust(6, "0"))
    return datetime(
        day.year, day.month, day.day, int(t.group(1)), int(t.group(2)), int(t.group(3) or 0), micro
    )


def parse_date(value: object, *, order: DateOrder = "ymd", epoch_1904: bool = False) -> date:
    """Parse a spreadsheet date (see :func:`parse_datetime`) and drop any time of day."""
    return parse_datetime(value, order=order, epoch_1904=epoch_1904).date()


def from_epoch(seconds: str) -> datetime:
    """Convert a Unix timestamp string (as nmap writes it) to an aware UTC datetime."""
    return datetime.fromtimestamp(int(seconds), tz=UTC)


FORMULA_PREFIXES = ("=", "+", "-", "@")
_NEUTRALISE_PREFIXES = (*FORMULA_PREFIXES, "\t", "\r", "＝", "＋", "－", "＠")


def is_formula_like(value: str) -> bool:
    """Say whether a spreadsheet would treat this text as a formula (``=``, ``+``, ``-``, ``@``)."""
    return value.startswith(FORMULA_PREFIXES)


def neutralise_cell(value: str) -> str:
    """Make text safe to write into a CSV/XLSX cell by prefixing ``'`` to formula triggers.

    Use this for every string the CMDB writes into a spreadsheet export: a value that
    starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return (or their
    full-width forms) would otherwise be evaluated by Excel/LibreOffice.
    """
    return "'" + value if value.startswith(_NEUTRALISE_PREFIXES) else value


def restore_cell(value: str) -> str:
    """Undo :func:`neutralise_cell` on a cell read back: a ``'`` in front of text a
    spreadsheet would run as a formula (``'=1+1``, ``''=x``) is taken off once, so an
    export imports back as it was stored."""
    if value.startswith("'") and value.lstrip("'").startswith(_NEUTRALISE_PREFIXES):
        return value[1:]
    return value
