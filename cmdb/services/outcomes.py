"""What reconciliation says about one observation, and what it plans to change.

These records are shared by the reconciliation (which fills them), the import
service (which applies them and keeps them as ``import_outcome`` docs) and the
API (which shows them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cmdb.importers import Observation
from cmdb.model.records import CI, Provenance, Relationship
from cmdb.services.inputs import CIChanges, NewCI


class Outcome(StrEnum):
    """The verdict on one observation."""

    MATCHED = "MATCHED"
    MATCHED_WITH_DIFFERENCES = "MATCHED_WITH_DIFFERENCES"
    NEW = "NEW"
    AMBIGUOUS = "AMBIGUOUS"
    INVALID = "INVALID"


@dataclass(frozen=True)
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


@dataclass
class SoftwarePlan:
    """Installed software to add to a device and installations to retire."""

    add: list[tuple[str, str | None, str | None]] = dataclasses.field(default_factory=list)
    retire: list[str] = dataclasses.field(default_factory=list)  # installation CI ids


@dataclass
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
    before: CI | None = None
    changes: CIChanges | None = None
    transition: str | None = None
    provenance: dict[str, Provenance] = dataclasses.field(default_factory=dict)
    place_id: str | None = None
    software: SoftwarePlan | None = None
    #: The CI's active ``LOCATED_IN`` relationships as read with ``before``.
    located: list[Relationship] = dataclasses.field(default_factory=list)

    @property
    def writes(self) -> bool:
        """Whether applying this observation changes the register."""
        return self.create is not None or self.changes is not None or \
            self.transition is not None or bool(self.software and (
                self.software.add or self.software.retire))

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
        return o.model_dump(mode="json", exclude_defaults=True)

    def as_json(self) -> dict[str, Any]:
        """The outcome as an ``import_outcome`` doc keeps it."""
        return {
            "line": self.line, "record": self.record, "outcome": self.outcome.value,
            "ci_id": self.ci_id, "reason": self.reason, "field": self.field,
            "candidates": list(self.candidates), "matched_by": self.rule,
            "differences": [d.as_json() for d in self.differences],
            "observation": self._observation(),
            "creates": self.create.model_dump(mode="json", exclude_none=True)
            if self.create else None,
            "transition": self.transition,
        }
