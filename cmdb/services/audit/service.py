"""Audit campaigns (e.g. "2026 H2"): plan, open, collect sightings, close with MISSING.

A campaign is a Doc of kind ``campaign`` whose ``key`` is its status (planned -> open
-> closed). Its scope is places (each with everything below it) and classes (each
with its subclasses). Opening it takes a snapshot of the scope (the places, with how
many assets each holds) into its ``campaign_progress`` doc; only one campaign may be
open per overlapping scope. Closing it turns every in-scope asset never seen into a
MISSING finding and needs a decision on the findings still open: leave them open
(resolvable later) or carry them over to the next campaign over the same scope.

Sightings are recorded through :meth:`CampaignService.record_sightings` (scan files,
the asset page) and :meth:`CampaignService.record_discovery` (discovery imports).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from cmdb.errors import ConflictError, InvalidTransitionError, NotFoundError, ValidationError
from cmdb.model.clock import Clock
from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.records import CI, Actor, Doc, now
from cmdb.model.registry import Registry
from cmdb.model.text import NAME, REASON, SHORT, check_text
from cmdb.services.audit import findings as fd
from cmdb.services.audit.recording import SightingRecorder
from cmdb.services.audit.sightings import Scope
from cmdb.services.cis.service import CIService
from cmdb.store.base import Store, StoreTx

KIND = "campaign"
NAME_LOCK = "campaign_name"
STATUSES = ("planned", "open", "closed")
LOCATION = "LOCATED_IN"
MAX_DEPTH = 32
BATCH = 5000
#: States in which an asset is not expected to be found on a walk.
NOT_EXPECTED = frozenset({"disposed", "lost", "stolen", "planned", "ordered"})


class OpenFindings(StrEnum):
    """What closing a campaign does with findings nobody has resolved yet."""

    LEAVE_OPEN = "LEAVE_OPEN"
    CARRY_OVER = "CARRY_OVER"


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


def name_lock_id(name: str) -> str:
    return hashlib.sha256(name.strip().casefold().encode()).hexdigest()[:24]


def event(actor: Actor, what: str, reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"at": now().isoformat(), "actor": actor.name, "channel": actor.channel.value,
            "what": what, "reason": reason, **extra}


class CampaignService(SightingRecorder):
    """Campaigns, their sightings, findings and progress, over any store."""

    def __init__(self, store: Store, registry: Registry, cis: CIService,
                 clock: Clock | None = None) -> None:
        super().__init__(store, registry, cis, clock)

    # ---- reading ---------------------------------------------------------------
    async def get(self, ref: str) -> Doc:
        """A campaign by id or by name."""
        doc = (await self.store.get_docs(KIND, [ref])).get(ref)
        if doc is None:
            lock = (await self.store.get_docs(NAME_LOCK, [name_lock_id(ref)])).get(
                name_lock_id(ref))
            if lock is not None:
                doc = (await self.store.get_docs(KIND, [lock.data["id"]])).get(lock.data["id"])
        if doc is None:
            raise NotFoundError(f"no campaign with id or name {ref!r}", id=ref)
        return doc

    async def find(self, status: str | None = None, first: int = 50,
                   after: str | None = None) -> tuple[list[Doc], bool]:
        """Campaigns, newest first, optionally of one status."""
        if status is not None and status not in STATUSES:
            raise ValidationError(f"unknown campaign status {status!r}; statuses: "
                                  + ", ".join(STATUSES), field="status")
        page = await self.store.find_docs(KIND, key=status, first=first, after=after)
        return page.items, page.has_next

    async def progress(self, campaign_id: str) -> list[ProgressRow]:
        """Per place: registered, seen, verified, open findings (one store call)."""
        doc = (await self.store.get_docs(fd.PROGRESS, [campaign_id])).get(campaign_id)
        if doc is None:
            return []
        rows = [ProgressRow(pid, r.get("name", ""), r.get("parent"), r["registered"],
                            r["seen"], r["verified"], r["open"])
                for pid, r in doc.data.get("places", {}).items()
                if r["registered"] or r["seen"] or r["open"]]
        return sorted(rows, key=lambda r: (-r.open, r.name, r.place_id))

    async def findings(self, campaign_id: str, type_: str | None = None,
                       status: str | None = None, first: int = 50,
                       offset: int = 0) -> tuple[list[Doc], bool]:
        """Findings of a campaign, newest first, by type and/or status."""
        types = [fd.FindingType(type_)] if type_ else list(fd.FindingType)
        statuses = [fd.FindingStatus(status)] if status else list(fd.FindingStatus)
        keys = [fd.doc_key(s, t) for s in statuses for t in types]
        merged: list[Doc] = []
        for key in keys:
            page = await self.store.find_docs(fd.KIND, parent=campaign_id, key=key,
                                              first=offset + first + 1)
            merged.extend(page.items)
        merged.sort(key=lambda d: (d.created_at, d.id), reverse=True)
        return merged[offset:offset + first], len(merged) > offset + first

    async def scopes(self) -> list[Scope]:
        """The open campaigns, ready to place sightings in."""
        docs, _ = await self.find("open", first=500)
        progress = await self.store.get_docs(fd.PROGRESS, [d.id for d in docs])
        out = []
        for doc in docs:
            places = progress[doc.id].data.get("places", {}) if doc.id in progress else {}
            out.append(Scope(doc, {p: r.get("parent") for p, r in places.items() if p},
                             frozenset(doc.data.get("class_set", []))))
        return out

    async def covering(self, ci: CI, scopes: Sequence[Scope] | None = None) -> list[Scope]:
        """The open campaigns that audit ``ci``: its class is in their classes and the
        place it is registered in is in their places (where a sighting of it at its
        registered place counts; the asset page offers "seen here" only then).
        ``scopes``: the open campaigns, when the caller has read them already."""
        scopes = [s for s in (await self.scopes() if scopes is None else scopes)
                  if ci.class_name in s.classes]
        if not scopes:
            return []
        rels = (await self.store.relationships_of([ci.id], "out", [LOCATION])).get(ci.id, [])
        home = rels[0].target_id if rels else None
        return [s for s in scopes if s.covers_place(home)]

    # ---- lifecycle ---------------------------------------------------------------
    async def create(self, actor: Actor, data: CampaignInput) -> Doc:
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
        doc = Doc(kind=KIND, key="planned", data={
            "name": name, "place_ids": list(dict.fromkeys(data.place_ids)),
            "classes": data.classes, "class_set": sorted(class_set),
            "period_start": data.period_start.isoformat() if data.period_start else None,
            "period_end": data.period_end.isoformat() if data.period_end else None,
            "auditors": data.auditors,
            "discovery_counts_as_verified": data.discovery_counts_as_verified,
            "events": [event(actor, "planned")]})
        lock = Doc(kind=NAME_LOCK, id=name_lock_id(name), data={"id": doc.id})

        async def work(tx: StoreTx) -> None:
            if (await tx.get_docs(NAME_LOCK, [lock.id])):
                raise ConflictError(f"a campaign named {name!r} exists already", field="name")
            await tx.put_docs([doc, lock])

        await self.store.write(work)
        return doc

    async def _snapshot(self, doc: Doc) -> dict[str, Any]:
        """The scope's places with their parents and how many in-scope assets each holds."""
        walk = await self.store.closure(doc.data["place_ids"], "in", [LOCATION], MAX_DEPTH)
        place_classes = {*self.registry.descendants("Place"), "Rack"}
        classes = set(doc.data["class_set"])
        places: dict[str, Any] = {}
        assets: list[tuple[str, str | None]] = []
        ids = [r.ci_id for r in walk.rows]
        parents = {r.ci_id: r.parent_id for r in walk.rows}
        for i in range(0, len(ids), BATCH):
            for ci in (await self.store.get_cis(ids[i:i + BATCH])).values():
                if ci.class_name in place_classes:
                    places[ci.id] = {"name": ci.name, "parent": parents.get(ci.id),
                                     "registered": 0, "seen": 0, "verified": 0, "open": 0}
                if ci.class_name in classes and ci.state not in NOT_EXPECTED:
                    assets.append((ci.id, parents.get(ci.id)))
        for _ci, parent in assets:
            if parent in places:
                places[parent]["registered"] += 1
        return {"places": places, "taken_at": now().isoformat()}

    async def open(self, actor: Actor, ref: str) -> Doc:
        """Start collecting sightings; refused while an overlapping campaign is open."""
        doc = await self.get(ref)
        if doc.key != "planned":
            raise InvalidTransitionError(f"a {doc.key} campaign cannot be opened",
                                         current=doc.key, target="open")
        snapshot = await self._snapshot(doc)
        mine = set(snapshot["places"])
        for other in await self.scopes():
            if mine & set(other.places) and set(doc.data["class_set"]) & other.classes:
                raise ConflictError(
                    f"campaign {other.campaign.data['name']!r} is open over an overlapping "
                    "scope; close it first", existingId=other.id)
        carried = await self._carried_into(doc, mine)
        progress = Doc(kind=fd.PROGRESS, id=doc.id, parent=doc.id, data=snapshot)
        for finding in carried:
            fd.move_progress(snapshot["places"], None, finding)

        async def work(tx: StoreTx) -> Doc:
            current = (await tx.get_docs(KIND, [doc.id]))[doc.id]
            new = self._moved(current, actor, "open", "opened")
            await tx.update_doc(new, current.version)
            await tx.put_docs([progress, *carried])
            return new

        return await self.store.write(work)

    async def _carried_into(self, doc: Doc, places: set[str]) -> list[Doc]:
        """Open copies of the findings earlier campaigns carried over into this scope."""
        out: list[Doc] = []
        closed, _ = await self.find("closed", first=500)
        for old in closed:
            if old.data.get("open_findings") != OpenFindings.CARRY_OVER:
                continue
            for t in fd.FindingType:
                page = await self.store.find_docs(fd.KIND, parent=old.id,
                                                  key=fd.doc_key("carried", t), first=100_000)
                for f in page.items:
                    if f.data.get("place_id") not in places or f.data.get("carried_to"):
                        continue
                    data = {**f.data, "status": "open", "campaign_id": doc.id,
                            "carried_from": old.id}
                    out.append(Doc(kind=fd.KIND, id=fd.finding_id(doc.id, "carried", f.id),
                                   parent=doc.id, key=fd.doc_key("open", t), data=data))
        return out

    def _moved(self, doc: Doc, actor: Actor, to: str, what: str,
               reason: str | None = None, **extra: Any) -> Doc:
        data = {**doc.data, **extra,
                "events": [*doc.data.get("events", []), event(actor, what, reason)]}
        return doc.model_copy(update={"key": to, "data": data, "version": doc.version + 1,
                                      "updated_at": now()})

    async def close(self, actor: Actor, ref: str, open_findings: OpenFindings | None,
                    reason: str | None = None) -> Doc:
        """Add MISSING for every in-scope asset never seen, then close the campaign.

        Findings still open need ``open_findings``: LEAVE_OPEN keeps them resolvable on
        this campaign, CARRY_OVER hands them to the next campaign over the same places.
        """
        check_text(reason, "reason", REASON)
        doc = await self.get(ref)
        if doc.key != "open":
            raise InvalidTransitionError(f"a {doc.key} campaign cannot be closed",
                                         current=doc.key, target="closed")
        missing = await self._missing(doc)
        open_count = sum([await self.store.count_docs(fd.KIND, parent=doc.id, key=k)
                          for k in fd.OPEN_KEYS]) + len(missing)
        if open_count and open_findings is None:
            raise ValidationError(
                f"{open_count} findings are still open (MISSING included); decide whether "
                "they stay open (LEAVE_OPEN) or go to the next campaign (CARRY_OVER)",
                field="openFindings", open=open_count)
        carry: list[Doc] = []
        if open_findings is OpenFindings.CARRY_OVER:
            for key in fd.OPEN_KEYS:
                page = await self.store.find_docs(fd.KIND, parent=doc.id, key=key,
                                                  first=1_000_000)
                carry.extend(page.items)

        async def work(tx: StoreTx) -> Doc:
            current = (await tx.get_docs(KIND, [doc.id]))[doc.id]
            if current.key != "open":
                raise ConflictError("the campaign changed meanwhile; read it again")
            progress = await tx.get_docs(fd.PROGRESS, [doc.id])
            versions = {k: v.version for k, v in progress.items()}
            drafts = await fd.apply_drafts(tx, missing, progress)
            for f in [*carry, *(d for d in drafts if open_findings is OpenFindings.CARRY_OVER)]:
                latest = (await tx.get_docs(fd.KIND, [f.id]))[f.id]
                data = {**latest.data, "status": "carried"}
                moved = latest.model_copy(update={
                    "data": data, "key": fd.doc_key("carried", data["type"]),
                    "version": latest.version + 1, "updated_at": now()})
                fd.move_progress(progress[doc.id].data["places"], latest, moved)
                await tx.update_doc(moved, latest.version)
            await fd.save_progress(tx, progress, versions)
            new = self._moved(current, actor, "closed", "closed", reason,
                              open_findings=open_findings.value if open_findings else None,
                              closed_at=now().isoformat())
            await tx.update_doc(new, current.version)
            return new

        return await self.store.write(work)

    async def _missing(self, doc: Doc) -> list[fd.Draft]:
        """A MISSING draft for each in-scope asset without a presence finding."""
        scope = next((s for s in await self.scopes() if s.id == doc.id), None)
        if scope is None:
            return []
        expected: list[str] = []
        tags: dict[str, str | None] = {}
        for place in doc.data["place_ids"]:
            after = None
            while True:
                page = await self.store.list_cis(
                    CISelection(location_id=place, classes=tuple(scope.classes)),
                    CIOrder(), BATCH, after)
                expected += [c.id for c in page.items if c.state not in NOT_EXPECTED]
                tags.update((c.id, c.asset_tag) for c in page.items)
                if not page.has_next:
                    break
                after = page.cursors[-1]
        expected = list(dict.fromkeys(expected))
        drafts: list[fd.Draft] = []
        for i in range(0, len(expected), BATCH):
            chunk = expected[i:i + BATCH]
            ids = {fd.finding_id(doc.id, "presence", c): c for c in chunk}
            seen = await self.store.get_docs(fd.KIND, list(ids))
            unseen = [c for fid, c in ids.items() if fid not in seen]
            located = await self.store.relationships_of(unseen, "out", [LOCATION])
            for ci_id in unseen:
                rels = located.get(ci_id, [])
                place = rels[0].target_id if rels else None
                drafts.append(fd.Draft(doc.id, fd.FindingType.MISSING, ci_id, place,
                                      {"sighting_id": None, "by": None, "at": None,
                                       "source": "close"}, ci_id=ci_id,
                                      asset_tag=tags.get(ci_id),
                                      data={"registered_place_id": place}))
        return drafts

    async def open_campaign_ids(self) -> Sequence[str]:
        return [s.id for s in await self.scopes()]
