"""What reconciliation says about one observation, and what it plans to change.

These records are shared by the reconciliation (which fills them), the import
service (which applies them and keeps them as compact rows, see
:mod:`cmdb.services.imports.outcome_rows`) and the API (which shows them).
"""

from __future__ import annotations

import dataclasses
import socket
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

    def _observation(self) -> dict[str, Any] | None:
        """The observation as the outcome keeps it: whole, except for a plain MATCHED
        one (the register says the same; the run's file and line say the rest), which
        keeps what identified it. Re-imports are mostly those, so this is what keeps
        them cheap."""
        o = self.observation
        if o is None:
            return None
        if self.outcome is Outcome.MATCHED and not self.differences and not self.writes:
            return {k: v for k, v in (("asset_tag", o.asset_tag), ("serial_number",
                    o.serial_number), ("name", o.name)) if v is not None}
        return observation_json(o)

    def as_row(self) -> dict[str, Any]:
        """The outcome as the run keeps it: only what it says (nulls and empties left
        out; :func:`expand_row` restores the full shape)."""
        o = self.observation
        if self.outcome is Outcome.MATCHED and o is not None and not self.differences \
                and self.reason is None and not self.writes:
            # The steady state of a recurring file: most rows are this.
            seen: dict[str, Any] = {}
            if o.asset_tag is not None:
                seen["asset_tag"] = o.asset_tag
            if o.serial_number is not None:
                seen["serial_number"] = o.serial_number
            if o.name is not None:
                seen["name"] = o.name
            brief: dict[str, Any] = {"outcome": "MATCHED", "ci_id": self.ci_id,
                                     "matched_by": self.rule, "observation": seen}
            if self.line is not None:
                brief["line"] = self.line
            if self.record is not None:
                brief["record"] = self.record
            if self.parties:
                brief["parties"] = [link.as_json() for link in self.parties]
            return brief
        row: dict[str, Any] = {"outcome": self.outcome.value}
        for key, value in (("line", self.line), ("record", self.record),
                           ("ci_id", self.ci_id), ("reason", self.reason),
                           ("field", self.field), ("matched_by", self.rule),
                           ("transition", self.transition)):
            if value is not None:
                row[key] = value
        if self.candidates:
            row["candidates"] = list(self.candidates)
        if self.differences:
            row["differences"] = [d.as_json() for d in self.differences]
        if self.parties:
            row["parties"] = [link.as_json() for link in self.parties]
        observed = self._observation()
        if observed is not None:
            row["observation"] = observed
        if self.create is not None:
            row["creates"] = new_ci_json(self.create)
        return row

    def as_json(self) -> dict[str, Any]:
        """The outcome in full, as the API shows it."""
        return expand_row(self.as_row())


#: Every key of an outcome as the API shows it, with its value when the row omits it.
ROW_DEFAULTS: dict[str, Any] = {
    "line": None, "record": None, "outcome": None, "ci_id": None, "reason": None,
    "field": None, "candidates": [], "matched_by": None, "differences": [],
    "observation": None, "creates": None, "transition": None, "parties": []}


def expand_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored outcome row in the full shape (every key, in the usual order)."""
    return {k: row.get(k, v) if not isinstance(v, list) else row.get(k, []) for k, v in
            ROW_DEFAULTS.items()}


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
