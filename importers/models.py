"""Observation records: what one importer saw about one asset in one place of one file.

The reconciliation service matches observations to configuration items on the
identifying fields (``asset_tag``, ``serial_number``, ``system_uuid``,
``mac_addresses``, ``hostnames``/``fqdn``, ``ip_addresses``); placeholders have
already been turned into ``None`` (and recorded in ``flags``).
"""

from __future__ import annotations

from datetime import date, datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from importers.normalise import is_identifying_mac, normalise_mac

Kind = Literal["discovery", "inventory", "inspection"]
IPAddress = IPv4Address | IPv6Address


class _Frozen(BaseModel):
    """Base of the observation models: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Locator(_Frozen):
    """Where a record is: file name, 1-based first line, 1-based record number, sheet."""

    file: str
    line: int | None = None
    record: int | None = None
    sheet: str | None = None


class Flag(_Frozen):
    """A note about a field that was accepted but altered or suspicious.

    Codes: ``PLACEHOLDER`` (value dropped as a placeholder), ``FORMULA_TEXT``
    (a cell that a spreadsheet would evaluate; kept as literal text),
    ``INVALID_IGNORED`` (an unparseable value in a non-essential place, such as
    one interface of an agent inventory, dropped so the record still imports),
    ``NOT_IDENTIFYING`` (a MAC address kept as observed data that never identifies:
    locally administered, multicast or all zero).
    """

    field: str
    code: Literal["PLACEHOLDER", "FORMULA_TEXT", "INVALID_IGNORED", "NOT_IDENTIFYING"]
    value: str


class Software(_Frozen):
    """One installed software package."""

    name: str
    version: str | None = None
    publisher: str | None = None


class Port(_Frozen):
    """One open network port and the service seen on it."""

    protocol: Literal["tcp", "udp", "sctp", "ip"]
    port: int = Field(ge=0, le=65535)
    state: str = "open"
    service: str | None = None
    product: str | None = None
    version: str | None = None
    extra_info: str | None = None


class NetworkInterface(_Frozen):
    """One network interface as the source reported it (virtual ones included).

    ``identifying`` says whether its MAC may identify the machine (see
    :func:`~importers.normalise.is_identifying_mac`): decided by the address, not
    by the source's ``virtual`` flag; ``None`` when there is no MAC."""

    name: str | None = None
    mac: str | None = None
    ip_addresses: list[IPAddress] = Field(default_factory=list)
    virtual: bool | None = None
    vendor: str | None = None
    identifying: bool | None = None

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        """Normalise to lowercase colon form."""
        return None if value is None else normalise_mac(value)

    @model_validator(mode="after")
    def _identifying(self) -> NetworkInterface:
        """Mark the MAC by the address (whatever a caller said)."""
        mark = None if self.mac is None else is_identifying_mac(self.mac)
        if self.identifying is not mark:
            object.__setattr__(self, "identifying", mark)  # frozen: set once, here
        return self


class Observation(_Frozen):
    """One asset as one source saw it; the unit the reconciliation engine consumes."""

    source: str
    kind: Kind
    locator: Locator

    asset_tag: str | None = None
    #: The CMDB's own id of the CI, as a register export writes it (``配置项ID``).
    ci_id: str | None = None
    serial_number: str | None = None
    system_uuid: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    name: str | None = None
    class_hint: str | None = None
    state_hint: str | None = None

    hostnames: list[str] = Field(default_factory=list)
    fqdn: str | None = None
    mac_addresses: list[str] = Field(default_factory=list)
    ip_addresses: list[IPAddress] = Field(default_factory=list)
    interfaces: list[NetworkInterface] = Field(default_factory=list)

    location: list[str] = Field(default_factory=list)
    owner: str | None = None
    department: str | None = None
    purchase_date: date | None = None
    warranty_end: date | None = None

    os_name: str | None = None
    os_version: str | None = None
    software: list[Software] = Field(default_factory=list)
    ports: list[Port] = Field(default_factory=list)

    condition: str | None = None
    auditor: str | None = None
    seen_at: datetime | None = None
    note: str | None = None

    attributes: dict[str, JsonValue] = Field(default_factory=dict)
    flags: list[Flag] = Field(default_factory=list)

    @field_validator("mac_addresses")
    @classmethod
    def _macs(cls, values: list[str]) -> list[str]:
        """Normalise every MAC to lowercase colon form and drop duplicates, keeping order."""
        return list(dict.fromkeys(normalise_mac(v) for v in values))

    @field_validator("hostnames")
    @classmethod
    def _hostnames(cls, values: list[str]) -> list[str]:
        """Lowercase host names, strip a trailing dot, drop empties and duplicates."""
        cleaned = (v.strip().rstrip(".").lower() for v in values)
        return list(dict.fromkeys(v for v in cleaned if v))

    @field_validator("fqdn")
    @classmethod
    def _fqdn(cls, value: str | None) -> str | None:
        """Lowercase the FQDN and strip a trailing dot."""
        return None if value is None else value.strip().rstrip(".").lower() or None

    @field_validator("ip_addresses")
    @classmethod
    def _ips(cls, values: list[IPAddress]) -> list[IPAddress]:
        """Drop duplicate addresses, keeping order."""
        return list(dict.fromkeys(values))
