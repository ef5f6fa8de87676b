"""The audit's values: the words a finding is made of (its type, its status, how it is
resolved, what closing a campaign does with findings still open) and the values the
records hold (a campaign's events and its tally per place, a finding's evidence and
resolution).

They are not kept on their own: :mod:`cmdb.services.audit.records` keeps them inside
the documents of campaigns, progress and findings, and is the only module that knows
how.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FindingType(StrEnum):
    """What a campaign can find about an asset."""

    VERIFIED = "VERIFIED"
    MISPLACED = "MISPLACED"
    ATTRIBUTE_MISMATCH = "ATTRIBUTE_MISMATCH"
    UNREGISTERED = "UNREGISTERED"
    AMBIGUOUS = "AMBIGUOUS"
    DUPLICATE = "DUPLICATE"
    MISSING = "MISSING"


class FindingStatus(StrEnum):
    """``ok`` needs nothing (verified); ``open`` needs a decision; ``carried`` went on to
    the next campaign."""

    OK = "ok"
    OPEN = "open"
    RESOLVED = "resolved"
    CARRIED = "carried"


class Resolution(StrEnum):
    """How an auditor settles a finding."""

    ACCEPT_OBSERVED = "ACCEPT_OBSERVED"
    KEEP_REGISTERED = "KEEP_REGISTERED"
    REGISTER_NEW = "REGISTER_NEW"
    MARK_LOST = "MARK_LOST"
    MERGE_DUPLICATES = "MERGE_DUPLICATES"


class OpenFindings(StrEnum):
    """What closing a campaign does with findings nobody has resolved yet."""

    LEAVE_OPEN = "LEAVE_OPEN"
    CARRY_OVER = "CARRY_OVER"


# ---- campaigns -------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignEvent:
    """A step in a campaign's life: planned, opened, closed; who, by which channel, why."""

    at: str
    actor: str
    channel: str
    what: str
    reason: str | None = None


@dataclass
class PlaceTally:
    """One place of a campaign's scope: assets registered there when it opened, seen,
    verified, open findings. Counters move in place within one unit of work."""

    name: str = ""
    parent: str | None = None
    registered: int = 0
    seen: int = 0
    verified: int = 0
    open: int = 0


# ---- findings -------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """The sighting behind a finding: its id, who saw it, when, by which road, where, in
    which condition (a MISSING finding's evidence is the campaign's close)."""

    sighting_id: str | None = None
    by: str | None = None
    at: str | None = None
    source: str | None = None
    place_id: str | None = None
    place: str | None = None
    condition: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ResolutionRecord:
    """How a finding was settled, by whom, when, why, and what it changed (``detail``)."""

    how: Resolution
    reason: str
    by: str
    at: str
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)
