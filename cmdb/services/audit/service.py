"""Audit campaigns (e.g. "2026 H2"): plan, open, collect sightings, close with MISSING.

A campaign (:class:`~cmdb.services.audit.records.Campaign`) goes planned -> open ->
closed. Its scope is places (each with everything below it) and classes (each with its
subclasses). Opening it takes a snapshot of the scope (the places, with how many assets
each holds) into its progress record; only one campaign may be open per overlapping
scope. Closing it turns every in-scope asset never seen into a MISSING finding and
needs a decision on the findings still open: leave them open (resolvable later) or
carry them over to the next campaign over the same scope.

Sightings are recorded by a :class:`~cmdb.services.audit.recording.SightingRecorder`
that the service holds; :meth:`CampaignService.record_sightings` (scan files, the asset
page) and :meth:`CampaignService.record_discovery` (discovery imports) hand them to it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from cmdb.errors import ConflictError, InvalidTransitionError, NotFoundError, ValidationError
from cmdb.model.clock import Clock
from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.records import CI, Actor, now
from cmdb.model.registry import Registry
from cmdb.model.text import NAME, REASON, SHORT, check_text
from cmdb.services.audit import findings as fd
from cmdb.services.audit import records as rec
from cmdb.services.audit import sightings as sg
from cmdb.services.audit.recording import RecordResult, SightingRecorder
from cmdb.services.audit.records import STATUSES, Campaign, CampaignName, Finding, Progress
from cmdb.services.audit.values import (
    CampaignEvent,
    Evidence,
    FindingStatus,
    FindingType,
    OpenFindings,
    PlaceTally,
)
from cmdb.services.cis.service import CIService
from cmdb.store.base import Store, StoreTx

MAX_DEPTH = 32
BATCH = 5000


@dataclass
class CampaignInput:
    """A campaign to plan: ``place_ids`` and ``classes`` (empty: every hardware class)."""

    name: str
    place_ids: list[str]
    classes: list[str] = field(default_factory=list)
    period_start: date | None = None
    period_end: date | None = None
    auditors: list[str] = field(default_factory=list)
    discovery_counts_as_verified: bool = False


@dataclass
class ProgressRow:
    """One place of a campaign: assets registered there, seen, verified, open findings."""

    place_id: str
    name: str
    parent_id: str | None
    registered: int
    seen: int
    verified: int
    open: int


def event(actor: Actor, what: str, reason: str | None = None) -> CampaignEvent:
    return CampaignEvent(at=now().isoformat(), actor=actor.name,
                         channel=actor.channel.value, what=what, reason=reason)


class CampaignService:
    """Campaigns, their sightings, findings and progress, over any store."""

    def __init__(self, store: Store, registry: Registry, cis: CIService,
                 clock: Clock | None = None) -> None:
        self.store = store
        self.registry = registry
        #: Records sightings and discovery outcomes into the open campaigns (``clock``:
        #: the zone of sightings stamped without an offset).
        self.recorder = SightingRecorder(store, registry, cis, clock)

    # ---- reading ---------------------------------------------------------------
    async def get(self, ref: str) -> Campaign:
        """A campaign by id or by name."""
        found = (await rec.get_campaigns(self.store, [ref])).get(ref) \
            or await rec.campaign_named(self.store, ref)
        if found is None:
            raise NotFoundError(f"no campaign with id or name {ref!r}", id=ref)
        return found

    async def get_many(self, ids: Sequence[str]) -> dict[str, Campaign]:
        """Campaigns by id (unknown ids are left out)."""
        return await rec.get_campaigns(self.store, ids)

    async def find(self, status: str | None = None, first: int = 50,
                   after: str | None = None) -> tuple[list[Campaign], bool]:
        """Campaigns, newest first, optionally of one status."""
        if status is not None and status not in STATUSES:
            raise ValidationError(f"unknown campaign status {status!r}; statuses: "
                                  + ", ".join(STATUSES), field="status")
        return await rec.find_campaigns(self.store, status, first, after)

    async def progress(self, campaign_id: str) -> list[ProgressRow]:
        """Per place: registered, seen, verified, open findings (one store call)."""
        found = (await rec.get_progress(self.store, [campaign_id])).get(campaign_id)
        if found is None:
            return []
        rows = [ProgressRow(pid, t.name, t.parent, t.registered, t.seen, t.verified, t.open)
                for pid, t in found.places.items() if t.registered or t.seen or t.open]
        return sorted(rows, key=lambda r: (-r.open, r.name, r.place_id))

    async def findings(self, campaign_id: str, type_: str | None = None,
                       status: str | None = None, first: int = 50,
                       offset: int = 0) -> tuple[list[Finding], bool]:
        """Findings of a campaign, newest first, by type and/or status."""
        types = [FindingType(type_)] if type_ else list(FindingType)
        statuses = [FindingStatus(status)] if status else list(FindingStatus)
        merged: list[Finding] = []
        for s in statuses:
            for t in types:
                merged += await rec.find_findings(self.store, campaign_id, s, t,
                                                  offset + first + 1)
        merged.sort(key=lambda f: (f.created_at, f.id), reverse=True)
        return merged[offset:offset + first], len(merged) > offset + first

    async def scopes(self) -> list[sg.Scope]:
        """The open campaigns, ready to place sightings in."""
        return await self.recorder.scopes()

    async def covering(self, ci: CI, scopes: Sequence[sg.Scope] | None = None
                       ) -> list[sg.Scope]:
        """The open campaigns that audit ``ci``: its class is in their classes and the
        place it is registered in is in their places (where a sighting of it at its
        registered place counts; the asset page offers "seen here" only then).
        ``scopes``: the open campaigns, when the caller has read them already."""
        scopes = [s for s in (await self.scopes() if scopes is None else scopes)
                  if ci.class_name in s.classes]
        if not scopes:
            return []
        located = await self.store.relationships_of([ci.id], "out",
                                                    [self.registry.location_type])
        rels = located.get(ci.id, [])
        home = rels[0].target_id if rels else None
        return [s for s in scopes if s.covers_place(home)]

    # ---- sightings ---------------------------------------------------------------
    async def record_sightings(self, actor: Actor, sightings: Sequence[sg.SightingInput],
                               source: sg.Source, run_id: str | None = None,
                               campaign_id: str | None = None) -> RecordResult:
        """Record assets seen by tag (see :meth:`SightingRecorder.record_sightings`)."""
        return await self.recorder.record_sightings(actor, sightings, source, run_id,
                                                    campaign_id)

    async def record_discovery(self, actor: Actor, run_id: str | None,
                               outcomes: Sequence[sg.DiscoveryOutcome],
                               campaign_id: str | None = None) -> RecordResult:
        """Count what a discovery import saw during open campaigns ("seen by discovery")."""
        return await self.recorder.record_discovery(actor, run_id, outcomes, campaign_id)

    async def sightings_of(self, ci_id: str, first: int = 5) -> list[rec.Sighting]:
        """The latest sightings of a CI (for its page: last seen, by whom, which campaign)."""
        return await self.recorder.sightings_of(ci_id, first)

    async def resolve_place(self, text: str | None) -> str | None:
        """A place id from an id or a path such as ``北京总部/3楼机房/A01机柜``."""
        return await self.recorder.resolve_place(text)

    # ---- lifecycle ---------------------------------------------------------------
    async def create(self, actor: Actor, data: CampaignInput) -> Campaign:
        """Plan a campaign; its name must be new."""
        name = data.name.strip()
        if not name or len(name) > 100:
            raise ValidationError("name: give a name of 1 to 100 characters", field="name")
        check_text(name, "name", NAME, single_line=True)
        if len(data.auditors) > 100:
            raise ValidationError("auditors: at most 100", field="auditors")
        for auditor in data.auditors:
            check_text(auditor, "auditors", SHORT, single_line=True)
        for class_name in data.classes:
            check_text(class_name, "classes", SHORT, single_line=True)
        if not data.place_ids:
            raise ValidationError("placeIds: a campaign covers at least one place",
                                  field="placeIds")
        if data.period_start and data.period_end and data.period_end < data.period_start:
            raise ValidationError("periodEnd must not be before periodStart", field="periodEnd")
        found = await self.store.get_cis(data.place_ids)
        for pid in data.place_ids:
            if pid not in found:
                raise NotFoundError(f"no place with id {pid!r}", id=pid, field="placeIds")
        class_set: set[str] = set()
        for cls in data.classes or ["Hardware"]:
            info = self.registry.class_info(self.registry.resolve_class(cls) or cls)
            class_set.update(self.registry.descendants(info.name, concrete_only=True))
        campaign = Campaign(
            name=name, place_ids=tuple(dict.fromkeys(data.place_ids)),
            classes=tuple(data.classes), class_set=tuple(sorted(class_set)),
            period_start=data.period_start, period_end=data.period_end,
            auditors=tuple(data.auditors),
            discovery_counts_as_verified=data.discovery_counts_as_verified,
            events=(event(actor, "planned"),))

        async def work(tx: StoreTx) -> None:
            if await rec.name_taken(tx, name):
                raise ConflictError(f"a campaign named {name!r} exists already", field="name")
            await rec.add(tx, [campaign, CampaignName(name, campaign.id)])

        await self.store.write(work)
        return campaign

    async def _snapshot(self, campaign: Campaign) -> Progress:
        """The scope's places with their parents and how many in-scope assets each holds."""
        walk = await self.store.closure(list(campaign.place_ids), "in",
                                        [self.registry.location_type], MAX_DEPTH)
        unexpected = set(self.registry.states_where(audited=False))
        place_classes = {*self.registry.descendants("Place"), "Rack"}
        classes = set(campaign.class_set)
        places: dict[str, PlaceTally] = {}
        assets: list[tuple[str, str | None]] = []
        ids = [r.ci_id for r in walk.rows]
        parents = {r.ci_id: r.parent_id for r in walk.rows}
        for i in range(0, len(ids), BATCH):
            for ci in (await self.store.get_cis(ids[i:i + BATCH])).values():
                if ci.class_name in place_classes:
                    places[ci.id] = PlaceTally(name=ci.name, parent=parents.get(ci.id))
                if ci.class_name in classes and ci.state not in unexpected:
                    assets.append((ci.id, parents.get(ci.id)))
        for _ci, parent in assets:
            if parent in places:
                places[parent].registered += 1
        return Progress(campaign_id=campaign.id, places=places, taken_at=now().isoformat())

    async def open(self, actor: Actor, ref: str) -> Campaign:
        """Start collecting sightings; refused while an overlapping campaign is open."""
        campaign = await self.get(ref)
        if campaign.status != "planned":
            raise InvalidTransitionError(f"a {campaign.status} campaign cannot be opened",
                                         current=campaign.status, target="open")
        progress = await self._snapshot(campaign)
        mine = set(progress.places)
        for other in await self.scopes():
            if mine & set(other.places) and set(campaign.class_set) & other.classes:
                raise ConflictError(
                    f"campaign {other.campaign.name!r} is open over an overlapping "
                    "scope; close it first", existingId=other.id)
        carried = await self._carried_into(campaign, mine)
        for finding in carried:
            fd.move_progress(progress.places, None, finding)

        async def work(tx: StoreTx) -> Campaign:
            current = (await rec.get_campaigns(tx, [campaign.id]))[campaign.id]
            new = self._moved(current, actor, "open", "opened")
            await rec.update(tx, [(new, current.version)])
            await rec.add(tx, [progress, *carried])
            return new

        return await self.store.write(work)

    async def _carried_into(self, campaign: Campaign, places: set[str]) -> list[Finding]:
        """Open copies of the findings earlier campaigns carried over into this scope."""
        out: list[Finding] = []
        closed, _ = await self.find("closed", first=500)
        for old in closed:
            if old.open_findings is not OpenFindings.CARRY_OVER:
                continue
            for t in FindingType:
                for f in await rec.find_findings(self.store, old.id, FindingStatus.CARRIED, t,
                                                 first=100_000):
                    if f.place_id not in places:
                        continue
                    stamp = now()
                    out.append(dataclasses.replace(
                        f, id=fd.finding_id(campaign.id, "carried", f.id),
                        campaign_id=campaign.id, status=FindingStatus.OPEN,
                        carried_from=old.id, version=1, created_at=stamp, updated_at=stamp))
        return out

    def _moved(self, campaign: Campaign, actor: Actor, to: str, what: str,
               reason: str | None = None, open_findings: OpenFindings | None = None,
               closed_at: str | None = None) -> Campaign:
        """The campaign gone to status ``to``, the step in its events."""
        return dataclasses.replace(
            campaign, status=to, events=(*campaign.events, event(actor, what, reason)),
            open_findings=open_findings or campaign.open_findings,
            closed_at=closed_at or campaign.closed_at, version=campaign.version + 1,
            updated_at=now())

    async def close(self, actor: Actor, ref: str, open_findings: OpenFindings | None,
                    reason: str | None = None) -> Campaign:
        """Add MISSING for every in-scope asset never seen, then close the campaign.

        Findings still open need ``open_findings``: LEAVE_OPEN keeps them resolvable on
        this campaign, CARRY_OVER hands them to the next campaign over the same places.
        """
        check_text(reason, "reason", REASON)
        campaign = await self.get(ref)
        if campaign.status != "open":
            raise InvalidTransitionError(f"a {campaign.status} campaign cannot be closed",
                                         current=campaign.status, target="closed")
        missing = await self._missing(campaign)
        open_count = sum([await rec.count_findings(self.store, campaign.id,
                                                   FindingStatus.OPEN, t)
                          for t in fd.OPEN_TYPES]) + len(missing)
        if open_count and open_findings is None:
            raise ValidationError(
                f"{open_count} findings are still open (MISSING included); decide whether "
                "they stay open (LEAVE_OPEN) or go to the next campaign (CARRY_OVER)",
                field="openFindings", open=open_count)
        carry: list[Finding] = []
        if open_findings is OpenFindings.CARRY_OVER:
            for t in fd.OPEN_TYPES:
                carry += await rec.find_findings(self.store, campaign.id, FindingStatus.OPEN,
                                                 t, first=1_000_000)

        async def work(tx: StoreTx) -> Campaign:
            current = (await rec.get_campaigns(tx, [campaign.id]))[campaign.id]
            if current.status != "open":
                raise ConflictError("the campaign changed meanwhile; read it again")
            progress = await rec.get_progress(tx, [campaign.id])
            versions = {k: v.version for k, v in progress.items()}
            drafts = await fd.apply_drafts(tx, missing, progress)
            for f in [*carry, *(d for d in drafts if open_findings is OpenFindings.CARRY_OVER)]:
                latest = (await rec.get_findings(tx, [f.id]))[f.id]
                moved = dataclasses.replace(latest, status=FindingStatus.CARRIED,
                                            version=latest.version + 1, updated_at=now())
                fd.move_progress(progress[campaign.id].places, latest, moved)
                await rec.update(tx, [(moved, latest.version)])
            await fd.save_progress(tx, progress, versions)
            new = self._moved(current, actor, "closed", "closed", reason,
                              open_findings=open_findings, closed_at=now().isoformat())
            await rec.update(tx, [(new, current.version)])
            return new

        return await self.store.write(work)

    async def _missing(self, campaign: Campaign) -> list[fd.Draft]:
        """A MISSING draft for each in-scope asset without a presence finding."""
        scope = next((s for s in await self.scopes() if s.id == campaign.id), None)
        if scope is None:
            return []
        expected: list[str] = []
        tags: dict[str, str | None] = {}
        unexpected = set(self.registry.states_where(audited=False))
        for root in campaign.place_ids:
            after = None
            while True:
                page = await self.store.list_cis(
                    CISelection(location_id=root, classes=tuple(scope.classes)),
                    CIOrder(), BATCH, after)
                expected += [c.id for c in page.items if c.state not in unexpected]
                tags.update((c.id, c.asset_tag) for c in page.items)
                if not page.has_next:
                    break
                after = page.cursors[-1]
        expected = list(dict.fromkeys(expected))
        drafts: list[fd.Draft] = []
        for i in range(0, len(expected), BATCH):
            chunk = expected[i:i + BATCH]
            ids = {fd.finding_id(campaign.id, "presence", c): c for c in chunk}
            seen = await rec.get_findings(self.store, list(ids))
            unseen = [c for fid, c in ids.items() if fid not in seen]
            located = await self.store.relationships_of(unseen, "out",
                                                        [self.registry.location_type])
            for ci_id in unseen:
                rels = located.get(ci_id, [])
                place = rels[0].target_id if rels else None
                drafts.append(fd.Draft(campaign.id, FindingType.MISSING, ci_id, place,
                                       Evidence(source="close"), ci_id=ci_id,
                                       asset_tag=tags.get(ci_id), registered_place_id=place))
        return drafts
