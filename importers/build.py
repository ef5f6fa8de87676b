"""Shared record builder: collects cleaned field values, placeholders and errors for one record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, tzinfo
from typing import Any

from pydantic import JsonValue, ValidationError

from importers.errors import RecordError, preview
from importers.models import (
    Flag,
    IPAddress,
    Kind,
    Locator,
    NetworkInterface,
    Observation,
    Port,
    Software,
)
from importers.normalise import (
    DateOrder,
    is_formula_like,
    is_identifying_mac,
    normalise_mac,
    parse_datetime,
    parse_ip,
)
from importers.placeholders import IdentifyingField, Placeholders

SCALAR_IDENTIFIERS: dict[str, IdentifyingField] = {
    "asset_tag": "asset_tag",
    "serial_number": "serial_number",
    "system_uuid": "system_uuid",
    "manufacturer": "manufacturer",
    "model": "model",
    "name": "name",
}
"""Scalar observation fields that identify an asset, and their placeholder-table names."""


class RecordBuilder:
    """Collects one record's fields; :meth:`finish` yields an Observation or its RecordErrors."""

    def __init__(
        self,
        source: str,
        kind: Kind,
        locator: Locator,
        placeholders: Placeholders,
        *,
        date_order: DateOrder = "ymd",
        epoch_1904: bool = False,
        zone: tzinfo | None = None,
    ) -> None:
        self.source = source
        self.kind = kind
        self.locator = locator
        self.placeholders = placeholders
        self.date_order: DateOrder = date_order
        self.epoch_1904 = epoch_1904
        self.zone = zone
        self.values: dict[str, Any] = {}
        self.attributes: dict[str, JsonValue] = {}
        self.flags: list[Flag] = []
        self.errors: list[RecordError] = []
        self.hostnames: list[str] = []
        self.macs: list[str] = []
        self.ips: list[IPAddress] = []
        self.location: list[str] = []
        self.interfaces: list[NetworkInterface] = []
        self.software: list[Software] = []
        self.ports: list[Port] = []

    def error(
        self, field: str | None, message: str, column: str | None = None, value: object = None
    ) -> None:
        """Record a problem with one field of this record."""
        self.errors.append(
            RecordError(
                source=self.source,
                file=self.locator.file,
                line=self.locator.line,
                record=self.locator.record,
                column=column,
                field=field,
                message=message,
                value=None if value is None else preview(value),
            )
        )

    def check_formula(self, field: str, value: str) -> None:
        """Flag text that a spreadsheet would evaluate; the text itself is kept literally."""
        if is_formula_like(value) and value.strip() not in ("-", "--"):
            self.flags.append(Flag(field=field, code="FORMULA_TEXT", value=preview(value)))

    def _placeholder(self, field: str, kind: IdentifyingField, value: str) -> bool:
        """Say whether ``value`` is a placeholder, flagging it when it is not blank."""
        if not self.placeholders.is_placeholder(kind, value):
            return False
        if value.strip():
            self.flags.append(Flag(field=field, code="PLACEHOLDER", value=preview(value)))
        return True

    def text(self, field: str, value: str | None) -> None:
        """Set a plain text field (blank -> unset); identifying fields drop placeholders."""
        if value is None or not value.strip():
            return
        kind = SCALAR_IDENTIFIERS.get(field)
        if kind is not None and self._placeholder(field, kind, value):
            return
        self.values.setdefault(field, value.strip())

    def hostname(self, value: str | None) -> None:
        """Add a host name unless it is a placeholder such as ``localhost``."""
        if value and value.strip() and not self._placeholder("hostnames", "hostname", value):
            self.hostnames.append(value)

    def mac(self, value: str | None, column: str | None = None) -> str | None:
        """Normalise and add a MAC; return it, or ``None`` if blank, placeholder or bad.

        A MAC that cannot identify a machine (locally administered, multicast: see
        :func:`is_identifying_mac`) is kept as observed data, flagged ``NOT_IDENTIFYING``;
        identification never uses it."""
        if (
            value is None
            or not value.strip()
            or self._placeholder("mac_addresses", "mac_address", value)
        ):
            return None
        try:
            mac = normalise_mac(value)
        except ValueError as exc:
            self.error("mac_addresses", str(exc), column, value)
            return None
        if self._placeholder("mac_addresses", "mac_address", mac):
            return None
        if not is_identifying_mac(mac):
            self.flags.append(Flag(field="mac_addresses", code="NOT_IDENTIFYING", value=mac))
        self.macs.append(mac)
        return mac

    def ip(self, value: str | None, column: str | None = None) -> IPAddress | None:
        """Validate and add one IP address; return it, or ``None`` if blank or bad."""
        if value is None or not value.strip():
            return None
        try:
            addr = parse_ip(value)
        except ValueError:
            self.error("ip_addresses", "not an IPv4 or IPv6 address", column, value)
            return None
        self.ips.append(addr)
        return addr

    def when(self, field: str, value: object, column: str | None = None) -> None:
        """Set a date (``purchase_date``…) or datetime (``seen_at``) field from a cell value."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        try:
            moment = parse_datetime(value, order=self.date_order, epoch_1904=self.epoch_1904)
        except ValueError as exc:
            self.error(field, str(exc), column, value)
            return
        if field != "seen_at":
            self.values[field] = moment.date()
            return
        if self.zone is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=self.zone)  # written in local time
            try:
                moment = moment.astimezone(UTC)  # kept in UTC, as the CMDB stores times
            except OverflowError:
                self.error(field, "time out of range", column, value)
                return
        self.values[field] = moment

    def attribute(self, key: str, value: JsonValue) -> None:
        """Keep a source-specific value under ``attributes[key]`` (blank -> skipped)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        self.attributes.setdefault(key, value.strip() if isinstance(value, str) else value)

    def finish(self) -> Iterator[Observation | RecordError]:
        """Yield the observation, or one RecordError per bad field if anything was wrong."""
        if not self.errors:
            data: dict[str, Any] = dict(self.values)
            data.update(
                source=self.source,
                kind=self.kind,
                locator=self.locator,
                hostnames=self.hostnames,
                mac_addresses=self.macs,
                ip_addresses=self.ips,
                location=self.location,
                interfaces=self.interfaces,
                software=self.software,
                ports=self.ports,
                attributes=self.attributes,
                flags=self.flags,
            )
            try:
                yield Observation.model_validate(data)
                return
            except ValidationError as exc:
                for problem in exc.errors():
                    loc = problem.get("loc", ())
                    field = str(loc[0]) if loc else None
                    self.error(field, problem.get("msg", "invalid"), None, problem.get("input"))
        yield from self.errors
