"""Sightings: an asset seen somewhere by someone at some time, by one of three roads
(an inspection-scan file, the "seen here" button of the asset page, a discovery import).

This module holds what callers send (:class:`SightingInput`, :class:`DiscoveryOutcome`)
and the pure rules that turn one sighting (a
:class:`~cmdb.services.audit.records.Sighting`) into proposed findings; the recorder
does the reading and writing. A sighting no open campaign covers is kept (and reported)
without a campaign.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cmdb.model.clock import Clock
from cmdb.model.identifiers import check_asset_tag
from cmdb.model.text import REASON, SHORT, check_text
from cmdb.services.audit.findings import Draft
from cmdb.services.audit.records import UNSCOPED, Campaign, Sighting
from cmdb.services.audit.values import Evidence, FindingType

Source = Literal["scan", "page", "discovery"]
# Conditions an auditor writes for "nothing wrong"; anything else is worth a finding.
GOOD_CONDITIONS = frozenset({"", "good", "ok", "normal", "fine", "完好", "正常", "良好", "好"})


@dataclass
class SightingInput:
    """One asset seen: the tag on its label, where (a place id or a path such as
    ``北京总部/3楼机房/A01机柜``), in which condition, by whom and when."""

    asset_tag: str
    place: str | None = None
    condition: str | None = None
    note: str | None = None
    seen_at: datetime | None = None
    auditor: str | None = None
    #: Where it was read, for errors (``scans.csv line 3``); not recorded.
    where: str | None = None


def check_sighting(s: SightingInput) -> None:
    """Refuse a sighting whose tag is not a valid asset tag or whose texts are too long
    (the page's form, GraphQL ``recordSighting``, scan files all come here)."""
    check_asset_tag(s.asset_tag.strip())
    check_text(s.place, "place", SHORT, single_line=True)
    check_text(s.condition, "condition", SHORT, single_line=True)
    check_text(s.note, "note", REASON)
    check_text(s.auditor, "auditor", SHORT, single_line=True)


@dataclass
class DiscoveryOutcome:
    """What a discovery import made of one observation, as reconciliation reports it.

    ``status`` is MATCHED, MATCHED_WITH_DIFFERENCES, NEW or AMBIGUOUS; ``ci_ids`` the
    matched CI (or the candidates when ambiguous); ``differences`` (field, registered,
    observed); ``identity`` names the device for people (tag, serial, MAC or host name).
    """

    status: str
    identity: str
    ci_ids: list[str] = field(default_factory=list)
    differences: list[tuple[str, Any, Any]] = field(default_factory=list)
    seen_at: datetime | None = None
    source: str = "discovery"


@dataclass
class Scope:
    """An open campaign as sighting evaluation needs it: its places (with each one's
    parent, for "seen in the room the rack is in") and its classes."""

    campaign: Campaign
    places: dict[str, str | None]
    classes: frozenset[str]

    @property
    def id(self) -> str:
        return self.campaign.id

    def covers_place(self, place_id: str | None) -> bool:
        return place_id is not None and place_id in self.places

    def ancestors(self, place_id: str) -> list[str]:
        out, current, guard = [], self.places.get(place_id), 0
        while current is not None and guard < 64:
            out.append(current)
            current, guard = self.places.get(current), guard + 1
        return out

    @property
    def discovery_verifies(self) -> bool:
        return self.campaign.discovery_counts_as_verified

    def in_period(self, at: datetime) -> bool:
        """Whether ``at`` falls on a day of the campaign's period (days of the CMDB's
        zone: give ``at`` in it)."""
        start, end = self.campaign.period_start, self.campaign.period_end
        day = at.date()
        return (not start or day >= start) and (not end or day <= end)


def sighting_id(campaign_id: str | None, subject: str, place: str | None, seen_at: str,
                source: str) -> str:
    """Stable id: the same scan imported twice is the same sighting."""
    text = "\x1f".join([campaign_id or UNSCOPED, subject, place or "", seen_at, source])
    return "s" + hashlib.sha256(text.encode()).hexdigest()[:23]


def iso(at: datetime | None, default: datetime, clock: Clock) -> str:
    """The stored text of a sighting's time (UTC); one without an offset is local time."""
    return clock.stamp(at or default)


def choose_scope(scopes: list[Scope], class_name: str | None, *places: str | None) -> Scope | None:
    """The open campaign whose scope covers one of ``places`` (and the class, if known)."""
    for scope in scopes:
        if class_name is not None and class_name not in scope.classes:
            continue
        if any(scope.covers_place(p) for p in places):
            return scope
    return None


def evidence(s: Sighting) -> Evidence:
    return Evidence(sighting_id=s.id, by=s.auditor, at=s.seen_at, source=s.source,
                    place_id=s.place_id, place=s.place_text, condition=s.condition,
                    note=s.note)


def presence(scope: Scope, s: Sighting, ci_id: str, registered: str | None) -> Draft:
    """VERIFIED when seen where registered (or in a place that contains it), else MISPLACED."""
    seen = s.place_id
    ok = seen is None and s.place_text is None
    if seen is not None and registered is not None:
        ok = seen == registered or seen in scope.ancestors(registered)
    kind = FindingType.VERIFIED if ok else FindingType.MISPLACED
    return Draft(scope.id, kind, ci_id, registered, evidence(s), ci_id=ci_id,
                 asset_tag=s.asset_tag, registered_place_id=registered, seen_place_id=seen,
                 seen_place=s.place_text)


def drafts_for(scope: Scope, s: Sighting, registered: dict[str, str | None]) -> list[Draft]:
    """The findings one sighting proposes in its campaign."""
    candidates = s.candidates
    tag = s.asset_tag
    ev = evidence(s)
    if not candidates:
        subject = str(tag or s.identity)
        return [Draft(scope.id, FindingType.UNREGISTERED, subject, s.place_id, ev,
                      asset_tag=tag, identity=s.identity or tag, seen_place_id=s.place_id,
                      seen_place=s.place_text)]
    if len(candidates) > 1:
        # Several records of one class answer the same identifier: one asset registered
        # twice (DUPLICATE). Records of different classes: which one cannot be told.
        classes = s.candidate_classes
        kind = FindingType.DUPLICATE if len(classes) == len(candidates) \
            and len(set(classes)) == 1 else FindingType.AMBIGUOUS
        subject = "|".join(sorted(candidates))
        return [Draft(scope.id, kind, subject, registered.get(candidates[0]), ev,
                      asset_tag=tag, candidates=tuple(sorted(candidates)),
                      identity=s.identity or tag)]
    ci_id = candidates[0]
    place = registered.get(ci_id)
    out: list[Draft] = []
    if s.source != "discovery" or scope.discovery_verifies:
        out.append(presence(scope, s, ci_id, place))
    condition = (s.condition or "").strip()
    if condition.casefold() not in GOOD_CONDITIONS:
        out.append(Draft(scope.id, FindingType.ATTRIBUTE_MISMATCH, ci_id, place, ev,
                         ci_id=ci_id, asset_tag=tag, field="condition", registered=None,
                         observed=condition))
    for name, before, after in s.differences:
        out.append(Draft(scope.id, FindingType.ATTRIBUTE_MISMATCH, ci_id, place, ev,
                         ci_id=ci_id, asset_tag=tag, field=name, registered=before,
                         observed=after))
    return out
