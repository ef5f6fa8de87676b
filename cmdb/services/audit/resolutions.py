"""Resolving audit findings: an auditor's decision, with a reason, applied to the register.

Each resolution is one unit of work: it changes the CIs under :class:`CIService`'s
rules (so the change is in their history like any other) and marks the finding
resolved with who, when, how and why; if any step fails, nothing is changed. A
resolution that leaves the CI as it is (keep the registered value) still adds a history
entry on the CI, so "why is this still registered there?" has an answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cmdb.errors import ConflictError, NotFoundError, ValidationError
from cmdb.model.records import (
    CI,
    Actor,
    EntityKind,
    FieldChange,
    HistoryAction,
    HistoryEntry,
    new_id,
    now,
)
from cmdb.model.text import NAME, REASON, SHORT, check_text
from cmdb.services.audit import findings as fd
from cmdb.services.audit import records as rec
from cmdb.services.audit.records import Campaign, Finding
from cmdb.services.audit.values import (
    Evidence,
    FindingStatus,
    FindingType,
    Resolution,
    ResolutionRecord,
)
from cmdb.services.cis.inputs import CIChanges, NewCI
from cmdb.services.cis.service import DIRECTIONS, CIService
from cmdb.store.base import Store, StoreTx


@dataclass
class ResolveOptions:
    """What some resolutions need: the class and name of a CI to register, the survivor
    of a merge."""

    class_name: str | None = None
    name: str | None = None
    survivor_id: str | None = None


class FindingResolver:
    """Applies resolutions to findings and the CIs they are about."""

    def __init__(self, store: Store, cis: CIService) -> None:
        self.store = store
        self.cis = cis

    async def get(self, finding_id: str) -> Finding:
        found = (await rec.get_findings(self.store, [finding_id])).get(finding_id)
        if found is None:
            raise NotFoundError(f"no finding with id {finding_id!r}", id=finding_id)
        return found

    async def resolve_many(self, actor: Actor, ids: Sequence[str], resolution: Resolution,
                           reason: str, options: ResolveOptions | None = None
                           ) -> list[Finding]:
        """Resolve a selection the same way (each one its own unit of work)."""
        return [await self.resolve(actor, i, resolution, reason, options) for i in ids]

    async def resolve(self, actor: Actor, finding_id: str, resolution: Resolution,
                      reason: str, options: ResolveOptions | None = None) -> Finding:
        """Apply ``resolution`` to the finding's CIs and record it on the finding."""
        options = options or ResolveOptions()
        if not reason or not reason.strip():
            raise ValidationError("reason: say why", field="reason")
        check_text(reason, "reason", REASON)
        check_text(options.class_name, "className", SHORT, single_line=True)
        check_text(options.name, "name", NAME, single_line=True)
        finding = await self.get(finding_id)
        type_ = finding.type
        if not finding.is_open:
            raise ConflictError(f"finding {finding_id} is {finding.status}, not open",
                                id=finding_id)
        if resolution not in fd.ALLOWED[type_]:
            raise ValidationError(
                f"a {type_} finding can be resolved by "
                + (", ".join(fd.ALLOWED[type_]) or "nothing (it needs no decision)"),
                field="resolution")
        campaign = (await rec.get_campaigns(self.store, [finding.campaign_id])).get(
            finding.campaign_id)
        label = f"audit {campaign.name if campaign else finding.campaign_id}: {type_} " \
                f"-> {resolution}: {reason.strip()}"
        moved = await self._history_to_move(finding, resolution, options)

        async def work(tx: StoreTx) -> Finding:
            step = Step(tx, actor, label)
            detail = await self._apply(step, finding, type_, resolution, options, moved)
            seen = await self._seen(step, finding, campaign, str(detail["created"])) \
                if "created" in detail else []
            await tx.add_history(step.history)
            return await self._mark(tx, actor, finding, resolution, reason.strip(), detail,
                                    seen)

        return await self.store.write(work)

    async def _history_to_move(self, finding: Finding, resolution: Resolution,
                               options: ResolveOptions) -> dict[str, list[HistoryEntry]]:
        """For a merge: the history of each CI merged away (read before the unit of work;
        history is append-only)."""
        if resolution is not Resolution.MERGE_DUPLICATES:
            return {}
        survivor = self._survivor(finding, options)
        out: dict[str, list[HistoryEntry]] = {}
        for other in finding.candidates:
            if other == survivor:
                continue
            entries: list[HistoryEntry] = []
            after: str | None = None
            while True:
                page = await self.store.history(ci_id=other, first=500, after=after)
                entries += page.items
                if not page.has_next or not page.items:
                    break
                after = page.items[-1].id
            out[other] = entries
        return out

    @staticmethod
    def _survivor(finding: Finding, options: ResolveOptions) -> str:
        candidates = finding.candidates
        survivor = options.survivor_id or (candidates[0] if candidates else None)
        if survivor is None or survivor not in candidates:
            raise ValidationError("survivorId: pick one of the candidates", field="survivorId")
        return survivor

    async def _apply(self, step: Step, finding: Finding, type_: FindingType,
                     resolution: Resolution, options: ResolveOptions,
                     moved: dict[str, list[HistoryEntry]]) -> dict[str, Any]:
        tx, actor, label = step.tx, step.actor, step.label
        ci_id = finding.ci_id
        if resolution is Resolution.KEEP_REGISTERED:
            for target in [ci_id] if ci_id else list(finding.candidates):
                await step.note(target, type_, resolution, label)
            return {}
        if resolution is Resolution.MARK_LOST:
            assert ci_id is not None
            lost = self.cis.registry.lost_state
            _, entries = await self.cis.transition_in(tx, actor, await step.ci(ci_id), lost,
                                                      label)
            step.history += entries
            return {"state": lost}
        if resolution is Resolution.ACCEPT_OBSERVED:
            assert ci_id is not None
            ci = await step.ci(ci_id)
            if type_ is FindingType.MISPLACED:
                place = finding.seen_place_id
                if place is None:
                    raise ValidationError("the place it was seen in is unknown; move it by hand",
                                          field="resolution")
                _, entries = await self.cis.update_in(tx, actor, ci,
                                                      CIChanges(location_id=place), label)
                step.history += entries
                _, entries = await self.cis.system_attributes_in(
                    tx, actor, [ci_id], {"last_audited_at": now().isoformat()}, label)
                step.history += entries
                return {"location_id": place}
            name, observed = str(finding.field), finding.observed
            if name == "condition":
                note = f"{ci.attributes.get('note') or ''}\n[{now().date()}] {observed}".strip()
                change = CIChanges(attributes={"note": note})
            elif name in ("name", "serial_number", "asset_tag"):
                change = CIChanges.model_validate({name: observed})
            else:
                change = CIChanges(attributes={name: observed})
            _, entries = await self.cis.update_in(tx, actor, ci, change, label)
            step.history += entries
            return {"field": name, "value": observed}
        if resolution is Resolution.REGISTER_NEW:
            if not options.class_name:
                raise ValidationError("className: which class is the new CI?",
                                      field="className")
            tag = finding.asset_tag
            created, entries = await self.cis.create_in(tx, actor, NewCI(
                class_name=options.class_name, name=options.name or tag or "unnamed",
                asset_tag=tag, state=self.cis.registry.in_stock_state,
                location_id=finding.seen_place_id), reason=label)
            step.history += entries
            return {"created": created.id}
        return await self._merge(step, finding, options, moved)

    async def _seen(self, step: Step, finding: Finding, campaign: Campaign | None,
                    ci_id: str) -> list[fd.Draft]:
        """A CI registered from a sighting of this campaign has been seen: VERIFIED where
        it was seen (so closing the campaign does not call it MISSING), stamped audited.

        Not for a class outside the campaign's classes (the campaign does not audit it),
        nor for a finding carried over from an earlier campaign (seen then, not in this one).
        """
        place = finding.seen_place_id
        ci = await step.ci(ci_id)
        if campaign is None or place is None or finding.carried_from \
                or ci.class_name not in campaign.class_set:
            return []
        evidence = finding.evidence
        at = max((e.at or "" for e in evidence), default="") or now().isoformat()
        _, entries = await self.cis.system_attributes_in(
            step.tx, step.actor, [ci_id],
            {"last_audited_at": at, "last_audited_campaign": campaign.name}, step.label)
        step.history += entries
        return [fd.Draft(campaign.id, FindingType.VERIFIED, ci_id, place,
                         evidence[-1] if evidence else Evidence(source="resolution", at=at),
                         ci_id=ci_id, asset_tag=ci.asset_tag, registered_place_id=place,
                         seen_place_id=place, seen_place=finding.seen_place,
                         registered_from=finding.id)]

    async def _merge(self, step: Step, finding: Finding, options: ResolveOptions,
                     moved: dict[str, list[HistoryEntry]]) -> dict[str, Any]:
        """The others' relationships and history move to the survivor, then the others
        are disposed of (their own history stays with them too)."""
        tx, actor, label = step.tx, step.actor, step.label
        survivor_id = self._survivor(finding, options)
        survivor = await step.ci(survivor_id)
        merged = [c for c in finding.candidates if c != survivor_id]
        for other in merged:
            why = f"merged into {survivor_id}; {label}"
            for direction in DIRECTIONS:
                for rel in await tx.active_relationships(other, direction):
                    peer = rel.target_id if direction == "out" else rel.source_id
                    if peer == survivor_id:
                        continue
                    keeps = await tx.active_relationships(survivor_id, direction, [rel.type])
                    ends = {r.target_id if direction == "out" else r.source_id for r in keeps}
                    single = self.cis.registry.relationship_type(rel.type).single
                    if peer in ends or (direction == "out" and single and keeps):
                        continue  # the survivor has it already, or its own single one
                    if direction == "out":
                        _, entries = await self.cis.relate_in(
                            tx, actor, survivor, rel.type, peer)
                    else:
                        source = await step.ci(peer)
                        _, entries = await self.cis.relate_in(
                            tx, actor, source, rel.type, survivor_id)
                    step.history += entries
            step.history += [copied(e, survivor_id, other, actor)
                             for e in reversed(moved.get(other, [])) if e.ci_id == other]
            ci = await step.ci(other)
            registry = self.cis.registry
            if registry.disposed_state not in registry.allowed_transitions(ci.state):
                ci, entries = await self.cis.transition_in(tx, actor, ci,
                                                           registry.retired_state, why)
                step.history += entries
            _, entries = await self.cis.transition_in(tx, actor, ci, registry.disposed_state,
                                                      why)
            step.history += entries
            await step.note(survivor_id, FindingType.DUPLICATE,
                            Resolution.MERGE_DUPLICATES, f"merged {other} into this; {label}")
        return {"survivor": survivor_id, "merged": merged}

    async def _mark(self, tx: StoreTx, actor: Actor, finding: Finding,
                    resolution: Resolution, reason: str, detail: dict[str, Any],
                    seen: Sequence[fd.Draft] = ()) -> Finding:
        """Mark the finding resolved; ``seen``: the findings of a CI just registered."""
        current = (await rec.get_findings(tx, [finding.id]))[finding.id]
        if current.version != finding.version:
            raise ConflictError(f"finding {finding.id} was resolved or changed meanwhile",
                                id=finding.id)
        new = dataclasses.replace(
            current, status=FindingStatus.RESOLVED, resolution=ResolutionRecord(
                how=resolution, reason=reason, by=actor.name, at=now().isoformat(),
                detail=detail), version=current.version + 1, updated_at=now())
        progress = await rec.get_progress(tx, [finding.campaign_id])
        versions = {k: v.version for k, v in progress.items()}
        if progress:
            places = progress[finding.campaign_id].places
            fd.move_progress(places, current, new)
            for draft in seen:  # registered in scope now: one more asset there
                if draft.place_id in places:
                    places[draft.place_id].registered += 1
        await rec.update(tx, [(new, current.version)])
        if seen and progress:
            await fd.apply_drafts(tx, seen, progress)
        await fd.save_progress(tx, progress, versions)
        return new


@dataclass
class Step:
    """One resolution's unit of work: the transaction, who, why, the history so far."""

    tx: StoreTx
    actor: Actor
    label: str
    history: list[HistoryEntry] = field(default_factory=list)

    async def ci(self, ci_id: str) -> CI:
        ci = await self.tx.get_ci(ci_id)
        if ci is None:
            raise NotFoundError(f"no CI with id {ci_id!r}", id=ci_id)
        return ci

    async def note(self, ci_id: str, type_: FindingType, resolution: Resolution,
                   label: str) -> None:
        """A history entry on a CI for a decision that changes nothing on it."""
        ci = await self.ci(ci_id)
        self.history.append(HistoryEntry(
            actor=self.actor.name, channel=self.actor.channel, run_id=self.actor.run_id,
            action=HistoryAction.UPDATED, entity_kind=EntityKind.CI, entity_id=ci_id,
            ci_id=ci_id, reason=label, version=ci.version,
            changes=[FieldChange(field="audit", before=type_.value, after=resolution.value)]))


def copied(entry: HistoryEntry, survivor: str, merged: str, actor: Actor) -> HistoryEntry:
    """A merged CI's history entry, kept on the survivor: same time, who and changes;
    the reason names the CI it came from."""
    return entry.model_copy(update={
        "id": new_id(), "ci_id": survivor,
        "reason": f"from merged CI {merged}" + (f": {entry.reason}" if entry.reason else ""),
        "run_id": entry.run_id or actor.run_id})
