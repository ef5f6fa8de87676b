"""Resolving audit findings: an auditor's decision, with a reason, applied to the register.

Each resolution is one unit of work: it changes the CIs under :class:`CIService`'s
rules (so the change is in their history like any other) and marks the finding
resolved with who, when, how and why; if any step fails, nothing is changed. A
resolution that leaves the CI as it is (keep the registered value) still adds a history
entry on the CI, so "why is this still registered there?" has an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cmdb.errors import ConflictError, NotFoundError, ValidationError
from cmdb.model.records import (
    CI,
    Actor,
    Doc,
    EntityKind,
    FieldChange,
    HistoryAction,
    HistoryEntry,
    new_id,
    now,
)
from cmdb.model.text import NAME, REASON, SHORT, check_text
from cmdb.services.audit import findings as fd
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

    async def get(self, finding_id: str) -> Doc:
        doc = (await self.store.get_docs(fd.KIND, [finding_id])).get(finding_id)
        if doc is None:
            raise NotFoundError(f"no finding with id {finding_id!r}", id=finding_id)
        return doc

    async def resolve_many(self, actor: Actor, ids: Sequence[str], resolution: fd.Resolution,
                           reason: str, options: ResolveOptions | None = None) -> list[Doc]:
        """Resolve a selection the same way (each one its own unit of work)."""
        return [await self.resolve(actor, i, resolution, reason, options) for i in ids]

    async def resolve(self, actor: Actor, finding_id: str, resolution: fd.Resolution,
                      reason: str, options: ResolveOptions | None = None) -> Doc:
        """Apply ``resolution`` to the finding's CIs and record it on the finding."""
        options = options or ResolveOptions()
        if not reason or not reason.strip():
            raise ValidationError("reason: say why", field="reason")
        check_text(reason, "reason", REASON)
        check_text(options.class_name, "className", SHORT, single_line=True)
        check_text(options.name, "name", NAME, single_line=True)
        doc = await self.get(finding_id)
        type_ = fd.FindingType(doc.data["type"])
        if doc.data["status"] not in (fd.FindingStatus.OPEN, fd.FindingStatus.CARRIED):
            raise ConflictError(f"finding {finding_id} is {doc.data['status']}, not open",
                                id=finding_id)
        if resolution not in fd.ALLOWED[type_]:
            raise ValidationError(
                f"a {type_} finding can be resolved by "
                + (", ".join(fd.ALLOWED[type_]) or "nothing (it needs no decision)"),
                field="resolution")
        campaign = (await self.store.get_docs("campaign", [doc.parent or ""])).get(
            doc.parent or "")
        label = f"audit {campaign.data['name'] if campaign else doc.parent}: {type_} " \
                f"-> {resolution}: {reason.strip()}"
        moved = await self._history_to_move(doc, resolution, options)

        async def work(tx: StoreTx) -> Doc:
            step = Step(tx, actor, label)
            detail = await self._apply(step, doc, type_, resolution, options, moved)
            seen = await self._seen(step, doc, campaign, str(detail["created"])) \
                if "created" in detail else []
            await tx.add_history(step.history)
            return await self._mark(tx, actor, doc, resolution, reason.strip(), detail, seen)

        return await self.store.write(work)

    async def _history_to_move(self, doc: Doc, resolution: fd.Resolution,
                               options: ResolveOptions) -> dict[str, list[HistoryEntry]]:
        """For a merge: the history of each CI merged away (read before the unit of work;
        history is append-only)."""
        if resolution is not fd.Resolution.MERGE_DUPLICATES:
            return {}
        survivor = self._survivor(doc, options)
        out: dict[str, list[HistoryEntry]] = {}
        for other in doc.data.get("candidates", []):
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
    def _survivor(doc: Doc, options: ResolveOptions) -> str:
        candidates: list[str] = list(doc.data.get("candidates", []))
        survivor = options.survivor_id or (candidates[0] if candidates else None)
        if survivor is None or survivor not in candidates:
            raise ValidationError("survivorId: pick one of the candidates", field="survivorId")
        return survivor

    async def _apply(self, step: Step, doc: Doc, type_: fd.FindingType,
                     resolution: fd.Resolution, options: ResolveOptions,
                     moved: dict[str, list[HistoryEntry]]) -> dict[str, Any]:
        data = doc.data
        tx, actor, label = step.tx, step.actor, step.label
        ci_id: str | None = data.get("ci_id")
        if resolution is fd.Resolution.KEEP_REGISTERED:
            for target in [ci_id] if ci_id else list(data.get("candidates", [])):
                await step.note(target, type_, resolution, label)
            return {}
        if resolution is fd.Resolution.MARK_LOST:
            assert ci_id is not None
            _, entries = await self.cis.transition_in(tx, actor, await step.ci(ci_id), "lost",
                                                      label)
            step.history += entries
            return {"state": "lost"}
        if resolution is fd.Resolution.ACCEPT_OBSERVED:
            assert ci_id is not None
            ci = await step.ci(ci_id)
            if type_ is fd.FindingType.MISPLACED:
                place = data.get("seen_place_id")
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
            name, observed = str(data.get("field")), data.get("observed")
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
        if resolution is fd.Resolution.REGISTER_NEW:
            if not options.class_name:
                raise ValidationError("className: which class is the new CI?",
                                      field="className")
            tag = data.get("asset_tag")
            created, entries = await self.cis.create_in(tx, actor, NewCI(
                class_name=options.class_name, name=options.name or tag or "unnamed",
                asset_tag=tag, state="in_stock", location_id=data.get("seen_place_id")),
                reason=label)
            step.history += entries
            return {"created": created.id}
        return await self._merge(step, doc, options, moved)

    async def _seen(self, step: Step, doc: Doc, campaign: Doc | None,
                    ci_id: str) -> list[fd.Draft]:
        """A CI registered from a sighting of this campaign has been seen: VERIFIED where
        it was seen (so closing the campaign does not call it MISSING), stamped audited.

        Not for a class outside the campaign's classes (the campaign does not audit it),
        nor for a finding carried over from an earlier campaign (seen then, not in this one).
        """
        data = doc.data
        place = data.get("seen_place_id")
        ci = await step.ci(ci_id)
        if campaign is None or place is None or data.get("carried_from") \
                or ci.class_name not in campaign.data.get("class_set", []):
            return []
        evidence = list(data.get("evidence") or [])
        at = max((str(e.get("at") or "") for e in evidence), default="") or now().isoformat()
        _, entries = await self.cis.system_attributes_in(
            step.tx, step.actor, [ci_id],
            {"last_audited_at": at, "last_audited_campaign": campaign.data["name"]}, step.label)
        step.history += entries
        return [fd.Draft(campaign.id, fd.FindingType.VERIFIED, ci_id, place,
                         evidence[-1] if evidence else {"source": "resolution", "at": at},
                         ci_id=ci_id, asset_tag=ci.asset_tag,
                         data={"registered_place_id": place, "seen_place_id": place,
                               "seen_place": data.get("seen_place"),
                               "registered_from": doc.id})]

    async def _merge(self, step: Step, doc: Doc, options: ResolveOptions,
                     moved: dict[str, list[HistoryEntry]]) -> dict[str, Any]:
        """The others' relationships and history move to the survivor, then the others
        are disposed of (their own history stays with them too)."""
        tx, actor, label = step.tx, step.actor, step.label
        survivor_id = self._survivor(doc, options)
        survivor = await step.ci(survivor_id)
        merged = [c for c in doc.data.get("candidates", []) if c != survivor_id]
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
                        step.history.append(await self.cis.relate_in(
                            tx, actor, survivor, rel.type, peer))
                    else:
                        source = await step.ci(peer)
                        step.history.append(await self.cis.relate_in(
                            tx, actor, source, rel.type, survivor_id))
            step.history += [copied(e, survivor_id, other, actor)
                             for e in reversed(moved.get(other, [])) if e.ci_id == other]
            ci = await step.ci(other)
            if "disposed" not in self.cis.registry.allowed_transitions(ci.state):
                ci, entries = await self.cis.transition_in(tx, actor, ci, "retired", why)
                step.history += entries
            _, entries = await self.cis.transition_in(tx, actor, ci, "disposed", why)
            step.history += entries
            await step.note(survivor_id, fd.FindingType.DUPLICATE,
                            fd.Resolution.MERGE_DUPLICATES, f"merged {other} into this; {label}")
        return {"survivor": survivor_id, "merged": merged}

    async def _mark(self, tx: StoreTx, actor: Actor, doc: Doc, resolution: fd.Resolution,
                    reason: str, detail: dict[str, Any], seen: Sequence[fd.Draft] = ()) -> Doc:
        """Mark the finding resolved; ``seen``: the findings of a CI just registered."""
        current = (await tx.get_docs(fd.KIND, [doc.id]))[doc.id]
        if current.version != doc.version:
            raise ConflictError(f"finding {doc.id} was resolved or changed meanwhile",
                                id=doc.id)
        data = {**current.data, "status": fd.FindingStatus.RESOLVED.value, "resolution": {
            "how": resolution.value, "reason": reason, "by": actor.name,
            "at": now().isoformat(), "detail": detail}}
        new = current.model_copy(update={
            "data": data, "key": fd.doc_key("resolved", data["type"]),
            "version": current.version + 1, "updated_at": now()})
        progress = await tx.get_docs(fd.PROGRESS, [doc.parent or ""])
        versions = {k: v.version for k, v in progress.items()}
        if progress:
            places = progress[doc.parent or ""].data["places"]
            fd.move_progress(places, current, new)
            for draft in seen:  # registered in scope now: one more asset there
                if draft.place_id in places:
                    places[draft.place_id]["registered"] += 1
        await tx.update_doc(new, current.version)
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

    async def note(self, ci_id: str, type_: fd.FindingType, resolution: fd.Resolution,
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
