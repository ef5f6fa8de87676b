"""What the audit keeps: campaigns, their progress, sightings and findings, as typed
records, and how each is kept in the store.

This is the only module that knows their storage: the document kinds, what a
document's ``parent`` and ``key`` hold and the names of its data keys, for the records
and for the values they hold (:mod:`cmdb.services.audit.values`: a finding's type,
status, evidence and resolution, a campaign's events, its tally per place). Services
read and write records through the functions at the end; the API, the pages and the
CLI read record attributes.

=====================  =====================  ==========================================
kind                   parent                 key
=====================  =====================  ==========================================
``campaign``           —                      its status: planned, open, closed
``campaign_name``      —                      — (id: a hash of the name; names are unique)
``campaign_progress``  its campaign (= id)    —
``sighting``           its campaign, or       the CI it is about (``tag:<identity>``
                       ``unscoped``           when it is not one CI)
``finding``            its campaign           ``"{status}:{type}"`` (one store call lists
                                              e.g. the open MISPLACED ones)
=====================  =====================  ==========================================
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from cmdb.model.records import Doc, new_id, now
from cmdb.services.audit.values import (
    CampaignEvent,
    Evidence,
    FindingStatus,
    FindingType,
    OpenFindings,
    PlaceTally,
    Resolution,
    ResolutionRecord,
)
from cmdb.store.base import Store, StoreTx

CAMPAIGN = "campaign"
CAMPAIGN_NAME = "campaign_name"
PROGRESS = "campaign_progress"
SIGHTING = "sighting"
FINDING = "finding"
#: The parent of a sighting no open campaign took (kept, and reported).
UNSCOPED = "unscoped"
STATUSES = ("planned", "open", "closed")


# ---- campaigns -------------------------------------------------------------------

@dataclass(frozen=True)
class Campaign:
    """An audit campaign (e.g. "2026 H2"): places (each with everything below it) and
    classes in scope, a period, auditors; planned -> open -> closed."""

    name: str
    place_ids: tuple[str, ...]
    #: The concrete classes in scope (the classes given, with their subclasses).
    class_set: tuple[str, ...]
    #: The classes as given (empty: every hardware class).
    classes: tuple[str, ...] = ()
    status: str = "planned"
    period_start: date | None = None
    period_end: date | None = None
    auditors: tuple[str, ...] = ()
    discovery_counts_as_verified: bool = False
    #: Once closed: what became of the findings still open.
    open_findings: OpenFindings | None = None
    closed_at: str | None = None
    events: tuple[CampaignEvent, ...] = ()
    id: str = dataclasses.field(default_factory=new_id)
    version: int = 1
    created_at: datetime = dataclasses.field(default_factory=now)
    updated_at: datetime = dataclasses.field(default_factory=now)

    def to_doc(self) -> Doc:
        return Doc(kind=CAMPAIGN, id=self.id, key=self.status, version=self.version,
                   created_at=self.created_at, updated_at=self.updated_at, data={
                       "name": self.name, "place_ids": list(self.place_ids),
                       "classes": list(self.classes), "class_set": list(self.class_set),
                       "period_start": _day_text(self.period_start),
                       "period_end": _day_text(self.period_end),
                       "auditors": list(self.auditors),
                       "discovery_counts_as_verified": self.discovery_counts_as_verified,
                       "open_findings": self.open_findings.value if self.open_findings
                       else None,
                       "closed_at": self.closed_at,
                       "events": [_event_data(e) for e in self.events]})

    @classmethod
    def from_doc(cls, doc: Doc) -> Campaign:
        d = doc.data
        decision = d.get("open_findings")
        return cls(name=str(d["name"]), place_ids=tuple(d.get("place_ids") or ()),
                   class_set=tuple(d.get("class_set") or ()),
                   classes=tuple(d.get("classes") or ()), status=doc.key or "planned",
                   period_start=_day(d.get("period_start")),
                   period_end=_day(d.get("period_end")),
                   auditors=tuple(d.get("auditors") or ()),
                   discovery_counts_as_verified=bool(d.get("discovery_counts_as_verified")),
                   open_findings=OpenFindings(decision) if decision else None,
                   closed_at=d.get("closed_at"),
                   events=tuple(_event(e) for e in d.get("events") or ()),
                   id=doc.id, version=doc.version, created_at=doc.created_at,
                   updated_at=doc.updated_at)


def name_id(name: str) -> str:
    """The id of the document that keeps a campaign name taken (case and spaces aside)."""
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()[:24]


@dataclass(frozen=True)
class CampaignName:
    """A campaign name, taken: the campaign it names (campaigns are found by name too)."""

    name: str
    campaign_id: str

    def to_doc(self) -> Doc:
        return Doc(kind=CAMPAIGN_NAME, id=name_id(self.name), data={"id": self.campaign_id})


@dataclass
class Progress:
    """A campaign's counters per place (``""``: findings of no known place), moved by
    the difference each finding change makes, so a page reads them in one call."""

    campaign_id: str
    places: dict[str, PlaceTally]
    taken_at: str | None = None
    version: int = 1
    created_at: datetime = dataclasses.field(default_factory=now)
    updated_at: datetime = dataclasses.field(default_factory=now)

    def to_doc(self) -> Doc:
        return Doc(kind=PROGRESS, id=self.campaign_id, parent=self.campaign_id,
                   version=self.version, created_at=self.created_at,
                   updated_at=self.updated_at, data={
                       "places": {p: dataclasses.asdict(t) for p, t in self.places.items()},
                       "taken_at": self.taken_at})

    @classmethod
    def from_doc(cls, doc: Doc) -> Progress:
        places = {p: PlaceTally(name=str(r.get("name") or ""), parent=r.get("parent"),
                                registered=int(r.get("registered", 0)),
                                seen=int(r.get("seen", 0)),
                                verified=int(r.get("verified", 0)), open=int(r.get("open", 0)))
                  for p, r in (doc.data.get("places") or {}).items()}
        return cls(campaign_id=doc.id, places=places, taken_at=doc.data.get("taken_at"),
                   version=doc.version, created_at=doc.created_at, updated_at=doc.updated_at)


# ---- sightings ------------------------------------------------------------------

@dataclass(frozen=True)
class Sighting:
    """An asset seen somewhere by someone at some time, by one road: ``scan`` (an
    inspection-scan file), ``page`` (the asset page's "seen here"), ``discovery``."""

    identity: str
    #: When, as stored: ISO 8601 in UTC.
    seen_at: str
    source: str
    #: The CIs it may be about: one (found), none (unregistered), several (ambiguous).
    candidates: tuple[str, ...] = ()
    #: None: no open campaign took it.
    campaign_id: str | None = None
    asset_tag: str | None = None
    place_text: str | None = None
    place_id: str | None = None
    condition: str | None = None
    note: str | None = None
    auditor: str | None = None
    run_id: str | None = None
    recorded_by: str | None = None
    #: Discovery: (field, registered, observed) of the matched CI.
    differences: tuple[tuple[str, Any, Any], ...] = ()
    #: Discovery: the class of each candidate.
    candidate_classes: tuple[str, ...] = ()
    id: str = ""
    version: int = 1
    created_at: datetime = dataclasses.field(default_factory=now)
    updated_at: datetime = dataclasses.field(default_factory=now)

    @property
    def seen_time(self) -> datetime:
        return datetime.fromisoformat(self.seen_at)

    def to_doc(self) -> Doc:
        key = self.candidates[0] if len(self.candidates) == 1 else f"tag:{self.identity}"
        return Doc(kind=SIGHTING, id=self.id, parent=self.campaign_id or UNSCOPED, key=key,
                   version=self.version, created_at=self.created_at,
                   updated_at=self.updated_at, data={
                       "asset_tag": self.asset_tag, "identity": self.identity,
                       "place_text": self.place_text, "place_id": self.place_id,
                       "condition": self.condition, "note": self.note,
                       "auditor": self.auditor, "seen_at": self.seen_at, "source": self.source,
                       "run_id": self.run_id, "recorded_by": self.recorded_by,
                       "differences": [list(x) for x in self.differences],
                       "candidate_classes": list(self.candidate_classes),
                       "campaign_id": self.campaign_id, "candidates": list(self.candidates)})

    @classmethod
    def from_doc(cls, doc: Doc) -> Sighting:
        d = doc.data
        return cls(identity=str(d.get("identity") or d.get("asset_tag") or ""),
                   seen_at=str(d["seen_at"]), source=str(d["source"]),
                   candidates=tuple(d.get("candidates") or ()),
                   campaign_id=d.get("campaign_id"), asset_tag=d.get("asset_tag"),
                   place_text=d.get("place_text"), place_id=d.get("place_id"),
                   condition=d.get("condition"), note=d.get("note"), auditor=d.get("auditor"),
                   run_id=d.get("run_id"), recorded_by=d.get("recorded_by"),
                   differences=tuple((str(x[0]), x[1], x[2]) for x in d.get("differences") or ()),
                   candidate_classes=tuple(d.get("candidate_classes") or ()),
                   id=doc.id, version=doc.version, created_at=doc.created_at,
                   updated_at=doc.updated_at)


# ---- findings -------------------------------------------------------------------

#: What a finding's type adds (kept only when set).
DETAILS = ("identity", "candidates", "registered_place_id", "seen_place_id", "seen_place",
           "field", "registered", "observed", "carried_from", "registered_from")


@dataclass(frozen=True)
class Finding:
    """What a campaign found about an asset (or a tag): its type and status, the place
    it counts in, the sightings behind it and, once settled, its resolution.

    Its id is derived from what it is about (see ``findings.finding_id``), so seeing an
    asset twice adds evidence to one finding instead of adding a second.
    """

    id: str
    campaign_id: str
    type: FindingType
    status: FindingStatus
    ci_id: str | None = None
    asset_tag: str | None = None
    #: The place it counts in: where the CI is registered (unregistered: where seen).
    place_id: str | None = None
    evidence: tuple[Evidence, ...] = ()
    resolution: ResolutionRecord | None = None
    #: UNREGISTERED, AMBIGUOUS, DUPLICATE: the device as the sighting names it.
    identity: str | None = None
    #: AMBIGUOUS, DUPLICATE: the CIs it may be.
    candidates: tuple[str, ...] = ()
    registered_place_id: str | None = None
    seen_place_id: str | None = None
    #: The place as the sighting wrote it.
    seen_place: str | None = None
    #: ATTRIBUTE_MISMATCH: the attribute, its registered and its observed value.
    field: str | None = None
    registered: Any = None
    observed: Any = None
    #: Carried over from the campaign with this id.
    carried_from: str | None = None
    #: VERIFIED for a CI registered by resolving this (UNREGISTERED) finding.
    registered_from: str | None = None
    version: int = 1
    created_at: datetime = dataclasses.field(default_factory=now)
    updated_at: datetime = dataclasses.field(default_factory=now)

    @property
    def is_open(self) -> bool:
        """Waiting for a decision (open here, or carried on)."""
        return self.status in (FindingStatus.OPEN, FindingStatus.CARRIED)

    @property
    def last_evidence(self) -> Evidence:
        return self.evidence[-1] if self.evidence else Evidence()

    def to_doc(self) -> Doc:
        data: dict[str, Any] = {
            "type": self.type.value, "status": self.status.value,
            "campaign_id": self.campaign_id, "ci_id": self.ci_id,
            "asset_tag": self.asset_tag, "place_id": self.place_id,
            "evidence": [dataclasses.asdict(e) for e in self.evidence],
            "resolution": _resolution_data(self.resolution) if self.resolution else None}
        for name in DETAILS:
            value = getattr(self, name)
            if value is not None and value != ():
                data[name] = list(value) if isinstance(value, tuple) else value
        return Doc(kind=FINDING, id=self.id, parent=self.campaign_id,
                   key=finding_key(self.status, self.type), data=data, version=self.version,
                   created_at=self.created_at, updated_at=self.updated_at)

    @classmethod
    def from_doc(cls, doc: Doc) -> Finding:
        d = doc.data
        resolution = d.get("resolution")
        return cls(id=doc.id, campaign_id=doc.parent or str(d.get("campaign_id") or ""),
                   type=FindingType(d["type"]), status=FindingStatus(d["status"]),
                   ci_id=d.get("ci_id"), asset_tag=d.get("asset_tag"),
                   place_id=d.get("place_id"),
                   evidence=tuple(_evidence(e) for e in d.get("evidence") or ()),
                   resolution=_resolution(resolution) if resolution else None,
                   identity=d.get("identity"), candidates=tuple(d.get("candidates") or ()),
                   registered_place_id=d.get("registered_place_id"),
                   seen_place_id=d.get("seen_place_id"), seen_place=d.get("seen_place"),
                   field=d.get("field"), registered=d.get("registered"),
                   observed=d.get("observed"), carried_from=d.get("carried_from"),
                   registered_from=d.get("registered_from"), version=doc.version,
                   created_at=doc.created_at, updated_at=doc.updated_at)


def finding_key(status: str, type_: str) -> str:
    return f"{status}:{type_}"


# ---- reading and writing ----------------------------------------------------------

class Stored(Protocol):
    def to_doc(self) -> Doc: ...


async def add(tx: StoreTx, records: Sequence[Stored]) -> None:
    """Add new records (a taken id raises ``DuplicateError``)."""
    if records:
        await tx.put_docs([r.to_doc() for r in records])


async def update(tx: StoreTx, changes: Sequence[tuple[Stored, int]]) -> None:
    """Replace records whose stored version is still the one given (compare-and-set)."""
    await tx.update_docs([(r.to_doc(), expected) for r, expected in changes])


async def get_campaigns(docs: Store | StoreTx, ids: Sequence[str]) -> dict[str, Campaign]:
    found = await docs.get_docs(CAMPAIGN, list(ids)) if ids else {}
    return {i: Campaign.from_doc(d) for i, d in found.items()}


async def campaign_named(docs: Store | StoreTx, name: str) -> Campaign | None:
    """The campaign of this name (case and spaces aside), if any."""
    lock = (await docs.get_docs(CAMPAIGN_NAME, [name_id(name)])).get(name_id(name))
    if lock is None:
        return None
    return (await get_campaigns(docs, [str(lock.data["id"])])).get(str(lock.data["id"]))


async def name_taken(docs: Store | StoreTx, name: str) -> bool:
    return bool(await docs.get_docs(CAMPAIGN_NAME, [name_id(name)]))


async def find_campaigns(store: Store, status: str | None = None, first: int = 50,
                         after: str | None = None) -> tuple[list[Campaign], bool]:
    """Campaigns, newest first, optionally of one status."""
    page = await store.find_docs(CAMPAIGN, key=status, first=first, after=after)
    return [Campaign.from_doc(d) for d in page.items], page.has_next


async def get_progress(docs: Store | StoreTx, campaign_ids: Sequence[str]
                       ) -> dict[str, Progress]:
    found = await docs.get_docs(PROGRESS, list(campaign_ids)) if campaign_ids else {}
    return {i: Progress.from_doc(d) for i, d in found.items()}


async def get_sightings(docs: Store | StoreTx, ids: Sequence[str]) -> dict[str, Sighting]:
    found = await docs.get_docs(SIGHTING, list(ids)) if ids else {}
    return {i: Sighting.from_doc(d) for i, d in found.items()}


async def sightings_of(store: Store, ci_id: str, first: int = 5) -> list[Sighting]:
    """The latest sightings of a CI, newest first."""
    page = await store.find_docs(SIGHTING, key=ci_id, first=first)
    return [Sighting.from_doc(d) for d in page.items]


async def get_findings(docs: Store | StoreTx, ids: Sequence[str]) -> dict[str, Finding]:
    found = await docs.get_docs(FINDING, list(ids)) if ids else {}
    return {i: Finding.from_doc(d) for i, d in found.items()}


async def find_findings(store: Store, campaign_id: str, status: FindingStatus,
                        type_: FindingType, first: int) -> list[Finding]:
    """A campaign's findings of one status and type, newest first."""
    page = await store.find_docs(FINDING, parent=campaign_id,
                                 key=finding_key(status, type_), first=first)
    return [Finding.from_doc(d) for d in page.items]


async def count_findings(store: Store, campaign_id: str, status: FindingStatus,
                         type_: FindingType) -> int:
    return await store.count_docs(FINDING, parent=campaign_id, key=finding_key(status, type_))


def _day(value: Any) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _day_text(value: date | None) -> str | None:
    return value.isoformat() if value else None


# ---- the values inside documents --------------------------------------------------

def _event_data(e: CampaignEvent) -> dict[str, Any]:
    return {"at": e.at, "actor": e.actor, "channel": e.channel, "what": e.what,
            "reason": e.reason}


def _event(d: dict[str, Any]) -> CampaignEvent:
    return CampaignEvent(at=str(d.get("at") or ""), actor=str(d.get("actor") or ""),
                         channel=str(d.get("channel") or ""), what=str(d.get("what") or ""),
                         reason=d.get("reason"))


def _evidence(d: dict[str, Any]) -> Evidence:
    return Evidence(**{f.name: d.get(f.name) for f in dataclasses.fields(Evidence)})


def _resolution_data(r: ResolutionRecord) -> dict[str, Any]:
    return {"how": r.how.value, "reason": r.reason, "by": r.by, "at": r.at,
            "detail": r.detail}


def _resolution(d: dict[str, Any]) -> ResolutionRecord:
    return ResolutionRecord(how=Resolution(d["how"]), reason=str(d.get("reason") or ""),
                            by=str(d.get("by") or ""), at=str(d.get("at") or ""),
                            detail=dict(d.get("detail") or {}))
