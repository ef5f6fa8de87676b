"""What reconciliation says about one observation, and what it plans to change.

These records are shared by the reconciliation (which fills them) and the import
service (which applies them and keeps them as compact rows: :func:`~cmdb.services.
imports.records.outcome_row`, :mod:`cmdb.services.imports.outcome_rows`); the API shows
them as read back (:class:`~cmdb.services.imports.records.ImportOutcome`).
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from pydantic import BaseModel

from cmdb.model.queries import CIFacts
from cmdb.model.records import Provenance
from cmdb.services.cis.inputs import CIChanges, NewCI
from importers import Observation


class Outcome(StrEnum):
    """The verdict on one observation."""

    MATCHED = "MATCHED"
    MATCHED_WITH_DIFFERENCES = "MATCHED_WITH_DIFFERENCES"
    NEW = "NEW"
    AMBIGUOUS = "AMBIGUOUS"
    INVALID = "INVALID"


@dataclass(slots=True)
class Difference:
    """One field where the register and the source disagree.

    ``applied`` says whether the run changes the register to the observed value
    (the source is authoritative and wins on precedence); ``note`` says why not.
    """

    field: str
    registered: Any
    observed: Any
    source: str
    applied: bool
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "registered": self.registered, "observed": self.observed,
                "source": self.source, "applied": self.applied, "note": self.note}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Difference:
        return cls(field=str(data["field"]), registered=data.get("registered"),
                   observed=data.get("observed"), source=str(data.get("source", "")),
                   applied=bool(data.get("applied")), note=data.get("note"))


class LinkOutcome(StrEnum):
    """What became of one person or team a row names (:mod:`cmdb.services.imports.parties`)."""

    UNCHANGED = "UNCHANGED"     # the CI is already linked to it
    LINKED = "LINKED"           # linked to a registered one (ending the one it replaces)
    CREATED = "CREATED"         # registered by this run, and linked
    AMBIGUOUS = "AMBIGUOUS"     # several match: no link
    UNRESOLVED = "UNRESOLVED"   # none matches and the run may not create it: no link
    REFUSED = "REFUSED"         # the source may not change this CI's link (precedence)


@dataclass(slots=True)
class PartyLink:
    """One column of a row naming a person or team, and what the run does with it."""

    field: str
    column: str | None
    value: str
    relationship: str
    outcome: LinkOutcome
    party_id: str | None = None
    party_name: str | None = None
    candidates: tuple[str, ...] = ()
    #: The relationships (ids) this link ends: the CI's former owner or team.
    replaces: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def writes(self) -> bool:
        return self.outcome in (LinkOutcome.LINKED, LinkOutcome.CREATED)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "outcome": self.outcome.value,
                               "value": self.value, "relationship": self.relationship}
        for key, value in (("column", self.column), ("party_id", self.party_id),
                           ("party_name", self.party_name), ("reason", self.reason)):
            if value is not None:
                out[key] = value
        if self.candidates:
            out["candidates"] = list(self.candidates)
        if self.replaces:
            out["replaces"] = list(self.replaces)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PartyLink:
        return cls(
            field=str(data["field"]), column=data.get("column"), value=str(data["value"]),
            relationship=str(data["relationship"]), outcome=LinkOutcome(data["outcome"]),
            party_id=data.get("party_id"), party_name=data.get("party_name"),
            candidates=tuple(data.get("candidates", ())),
            replaces=tuple(data.get("replaces", ())), reason=data.get("reason"))


@dataclass
class SoftwarePlan:
    """Installed software to add to a device and installations to retire."""

    add: list[tuple[str, str | None, str | None]] = dataclasses.field(default_factory=list)
    retire: list[str] = dataclasses.field(default_factory=list)  # installation CI ids


@dataclass(slots=True)
class Planned:
    """One observation reconciled: the verdict, and the change an applied run makes."""

    line: int | None
    record: int | None
    outcome: Outcome
    observation: Observation | None = None
    ci_id: str | None = None
    reason: str | None = None
    field: str | None = None
    candidates: tuple[str, ...] = ()
    rule: str | None = None
    differences: list[Difference] = dataclasses.field(default_factory=list)
    create: NewCI | None = None
    #: The registered CI as reconciliation compared with it (an applied run writes
    #: against this version and this place, or fails: someone changed it meanwhile).
    facts: CIFacts | None = None
    changes: CIChanges | None = None
    transition: str | None = None
    provenance: dict[str, Provenance] = dataclasses.field(default_factory=dict)
    place_id: str | None = None
    software: SoftwarePlan | None = None
    #: The people and teams the row names (:mod:`cmdb.services.imports.parties`).
    parties: list[PartyLink] = dataclasses.field(default_factory=list)

    @property
    def writes(self) -> bool:
        """Whether applying this observation changes the register."""
        return self.create is not None or self.changes is not None or \
            self.transition is not None or bool(self.software and (
                self.software.add or self.software.retire)) or \
            any(link.writes for link in self.parties)


def new_ci_json(new: NewCI) -> dict[str, Any]:
    """A planned CI as ``model_dump(mode="json", exclude_none=True)`` writes it, without
    the pydantic pass (a register run plans thousands)."""
    out: dict[str, Any] = {"class_name": new.class_name, "name": new.name}
    for key in ("state", "asset_tag", "serial_number"):
        value = getattr(new, key)
        if value is not None:
            out[key] = value
    out["attributes"] = new.attributes
    for key in ("location_id", "owner_id"):
        value = getattr(new, key)
        if value is not None:
            out[key] = value
    return out


def ip_text(ip: IPv4Address | IPv6Address) -> str:
    """An address as text (``str()`` of an IPv4 address is pure Python, twice as slow as
    the C formatter)."""
    return socket.inet_ntoa(ip.packed) if ip.version == 4 else str(ip)


def _iso_datetime(value: datetime) -> str:
    # pydantic's JSON form of a datetime: ISO 8601, UTC written as Z
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def observation_json(o: Observation) -> dict[str, Any]:
    """An observation as ``model_dump(mode="json", exclude_defaults=True)`` writes it, by
    hand: the pydantic pass was a fifth of a register run's outcome records."""
    out: dict[str, Any] = {}
    for key, value in o.__dict__.items():
        kind = type(value)
        if kind is str:
            out[key] = value
        elif value is None or (not value and kind in (list, dict)):
            continue
        elif key == "locator":
            out[key] = {k: v for k, v in value.__dict__.items() if v is not None}
        elif key == "ip_addresses":
            out[key] = [ip_text(ip) for ip in value]
        elif kind is datetime:
            out[key] = _iso_datetime(value)
        elif kind is date:
            out[key] = value.isoformat()
        elif kind is list and isinstance(value[0], BaseModel):
            out[key] = [m.model_dump(mode="json", exclude_defaults=True) for m in value]
        else:
            out[key] = value
    return out
