"""Checking and normalising CI attribute values against their class.

Values are stored as JSON: dates as ``YYYY-MM-DD``, datetimes as ISO 8601
in UTC (one without an offset read in the CMDB's zone, see :mod:`cmdb.model.clock`),
MAC addresses lower-case with colons, IP addresses in their
canonical text form.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from cmdb.errors import ValidationError
from cmdb.model.definitions import AttributeDef, AttributeType
from cmdb.model.registry import ClassInfo

MAC_HEX = re.compile(r"[0-9a-f]{12}")
LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){LABEL}(\.{LABEL})*\.?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_STRING = 4000
MAX_TEXT = 100_000
MAX_INTEGER = 2**63 - 1


def normalise_mac(value: str) -> str | None:
    """``3C-D9-2B-11-22-33``, ``3cd9.2b11.2233`` and ``3c:d9:2b:11:22:33`` are one MAC."""
    digits = re.sub(r"[\s:.\-]", "", value.strip().lower())
    if not MAC_HEX.fullmatch(digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _scalar(name: str, d: AttributeDef, value: Any, zone: tzinfo = UTC) -> Any:
    t = d.type

    def bad(expected: str) -> ValidationError:
        return ValidationError(
            f"attribute {name!r} must be {expected}, got {value!r}", field=name, value=str(value)
        )

    if t in (AttributeType.STRING, AttributeType.TEXT, AttributeType.URL):
        if not isinstance(value, str):
            raise bad("a string")
        limit = d.max_length or (MAX_TEXT if t is AttributeType.TEXT else MAX_STRING)
        if len(value) > limit:
            raise ValidationError(
                f"attribute {name!r} is longer than {limit} characters", field=name
            )
        if "\x00" in value:
            raise ValidationError(f"attribute {name!r} contains a NUL character", field=name)
        return value
    if t is AttributeType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        _finite(name, value)
        _bounds(name, d, value)
        return value
    if t is AttributeType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad("a number")
        _finite(name, value)
        _bounds(name, d, value)
        return value
    if t is AttributeType.BOOLEAN:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if t is AttributeType.DATE:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise bad("a date (YYYY-MM-DD)") from None
    if t is AttributeType.DATETIME:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise bad("a date and time (ISO 8601)") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        try:
            return parsed.astimezone(UTC).isoformat()
        except OverflowError:
            raise bad("a date and time (ISO 8601)") from None
    if t is AttributeType.ENUM:
        assert d.values is not None
        if value not in d.values:
            raise bad("one of " + ", ".join(d.values))
        return value
    if t is AttributeType.MAC:
        mac = normalise_mac(value) if isinstance(value, str) else None
        if mac is None:
            raise bad("a MAC address")
        return mac
    if t is AttributeType.IP:
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            raise bad("an IPv4 or IPv6 address") from None
    if t is AttributeType.HOSTNAME:
        if not isinstance(value, str) or not HOSTNAME.match(value.strip().lower()):
            raise bad("a host name")
        return value.strip().lower()
    if t is AttributeType.EMAIL:
        if not isinstance(value, str) or not EMAIL.match(value):
            raise bad("an e-mail address")
        return value
    raise AssertionError(f"unhandled attribute type {t}")  # pragma: no cover


def _finite(name: str, value: float) -> None:
    """Numbers stored and sent as JSON: finite, and integers within 64 bits."""
    if (isinstance(value, float) and not math.isfinite(value)) or (
            isinstance(value, int) and abs(value) > MAX_INTEGER):
        raise ValidationError(f"attribute {name!r} is out of range", field=name)


def _bounds(name: str, d: AttributeDef, value: float) -> None:
    if d.minimum is not None and value < d.minimum:
        raise ValidationError(f"attribute {name!r} must be >= {d.minimum:g}", field=name)
    if d.maximum is not None and value > d.maximum:
        raise ValidationError(f"attribute {name!r} must be <= {d.maximum:g}", field=name)


def check_attributes(
    info: ClassInfo, values: Mapping[str, Any], *, complete: bool, zone: tzinfo = UTC
) -> dict[str, Any]:
    """Validate ``values`` for class ``info`` and return them normalised.

    ``None`` removes an attribute; a date-time without an offset is read in ``zone``.
    With ``complete`` (a whole record, as on create) every required attribute must be
    present.
    """
    out: dict[str, Any] = {}
    for name, value in values.items():
        d = info.attributes.get(name)
        if d is None:
            known = ", ".join(sorted(info.attributes)) or "none"
            raise ValidationError(
                f"class {info.name} has no attribute {name!r}; its attributes: {known}",
                field=name,
            )
        if value is None:
            out[name] = None
            continue
        if d.list:
            items = value if isinstance(value, list) else [value]
            normalised = [_scalar(name, d, v, zone) for v in items]
            out[name] = list(dict.fromkeys(normalised))
        else:
            if isinstance(value, list):
                raise ValidationError(f"attribute {name!r} takes one value, not a list", field=name)
            out[name] = _scalar(name, d, value, zone)
    if complete:
        check_required(info, out)
    return out


def check_required(info: ClassInfo, values: Mapping[str, Any]) -> None:
    """Refuse a record (already checked value by value) missing a required attribute."""
    missing = [n for n, d in info.attributes.items() if d.required and values.get(n) is None]
    if missing:
        raise ValidationError(f"class {info.name} requires: {', '.join(missing)}",
                              field=missing[0])
