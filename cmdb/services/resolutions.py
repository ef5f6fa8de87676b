"""Resolving audit findings: an auditor's decision, with a reason, applied to the register.

Each resolution changes the CIs through :class:`CIService` (so the change is in their
history like any other) and then marks the finding resolved with who, when, how and
why. A resolution that leaves the CI as it is (keep the registered value) still adds a
history entry on the CI, so "why is this still registered there?" has an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from cmdb.errors import ConflictError, NotFoundError, ValidationError
from cmdb.model.records import (
    Actor,
    Doc,
    EntityKind,
    FieldChange,
    HistoryAction,
    HistoryEntry,
    now,
)
from cmdb.services import findings as fd
from cmdb.services.cis import CIService
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
        detail = await self._apply(actor, doc, type_, resolution, label, options)
        return await self._mark(actor, doc, resolution, reason.strip(), detail)

    async def _apply(self, actor: Actor, doc: Doc, type_: fd.FindingType,
                     resolution: fd.Resolution, label: str,
                     options: ResolveOptions) -> dict[str, Any]:
        data = doc.data
        ci_id: str | None = data.get("ci_id")
        if resolution is fd.Resolution.KEEP_REGISTERED:
            for target in [ci_id] if ci_id else list(data.get("candidates", [])):
                await self._note(actor, target, type_, resolution, label)
            return {}
        if resolution is fd.Resolution.MARK_LOST:
            assert ci_id is not None
            await self.cis.transition(actor, ci_id, "lost", label)
            return {"state": "lost"}
        if resolution is fd.Resolution.ACCEPT_OBSERVED:
            assert ci_id is not None
            ci = await self._ci(ci_id)
            if type_ is fd.FindingType.MISPLACED:
                place = data.get("seen_place_id")
                if place is None:
                    raise ValidationError("the place it was seen in is unknown; move it by hand",
                                          field="resolution")
                await self.cis.update(actor, ci_id, ci.version, {"location_id": place}, label)
                ci = await self._ci(ci_id)
                await self.cis.set_system_attributes(actor, [ci_id], {
                    "last_audited_at": now().isoformat()}, label)
                return {"location_id": place}
            name, observed = str(data.get("field")), data.get("observed")
            if name == "condition":
                note = f"{ci.attributes.get('note') or ''}\n[{now().date()}] {observed}".strip()
                await self.cis.update(actor, ci_id, ci.version, {"attributes": {"note": note}},
                                      label)
            elif name in ("name", "serial_number", "asset_tag"):
                await self.cis.update(actor, ci_id, ci.version, {name: observed}, label)
            else:
                await self.cis.update(actor, ci_id, ci.version,
                                      {"attributes": {name: observed}}, label)
            return {"field": name, "value": observed}
        if resolution is fd.Resolution.REGISTER_NEW:
            if not options.class_name:
                raise ValidationError("className: which class is the new CI?",
                                      field="className")
            tag = data.get("asset_tag")
            created = await self.cis.create(actor, {
                "class_name": options.class_name, "name": options.name or tag or "unnamed",
                "asset_tag": tag, "state": "in_stock",
                "location_id": data.get("seen_place_id")})
            return {"created": created.id}
        return await self._merge(actor, doc, options, label)

    async def _merge(self, actor: Actor, doc: Doc, options: ResolveOptions,
                     label: str) -> dict[str, Any]:
        """Move the others' relationships to the survivor, then dispose of the others."""
        candidates: list[str] = list(doc.data.get("candidates", []))
        survivor = options.survivor_id or (candidates[0] if candidates else None)
        if survivor is None or survivor not in candidates:
            raise ValidationError("survivorId: pick one of the candidates", field="survivorId")
        merged = [c for c in candidates if c != survivor]
        for other in merged:
            for direction in ("out", "in"):
                rels = (await self.store.relationships_of([other], direction)).get(other, [])
                for rel in rels:
                    source = survivor if direction == "out" else rel.source_id
                    target = rel.target_id if direction == "out" else survivor
                    # the survivor may have it already (or a single one of its own)
                    with suppress(ConflictError, ValidationError):
                        await self.cis.relate(actor, source, rel.type, target, rel.attributes)
            why = f"merged into {survivor}; {label}"
            ci = await self._ci(other)
            if "disposed" not in self.cis.registry.allowed_transitions(ci.state):
                await self.cis.transition(actor, other, "retired", why)
            await self.cis.dispose(actor, other, why)
            await self._note(actor, survivor, fd.FindingType.DUPLICATE,
                             fd.Resolution.MERGE_DUPLICATES, f"merged {other} into this; {label}")
        return {"survivor": survivor, "merged": merged}

    async def _ci(self, ci_id: str) -> Any:
        ci = (await self.store.get_cis([ci_id])).get(ci_id)
        if ci is None:
            raise NotFoundError(f"no CI with id {ci_id!r}", id=ci_id)
        return ci

    async def _note(self, actor: Actor, ci_id: str, type_: fd.FindingType,
                    resolution: fd.Resolution, label: str) -> None:
        """A history entry on a CI for a decision that changes nothing on it."""
        ci = await self._ci(ci_id)
        entry = HistoryEntry(actor=actor.name, channel=actor.channel, run_id=actor.run_id,
                             action=HistoryAction.UPDATED, entity_kind=EntityKind.CI,
                             entity_id=ci_id, ci_id=ci_id, reason=label, version=ci.version,
                             changes=[FieldChange(field="audit", before=type_.value,
                                                  after=resolution.value)])

        async def work(tx: StoreTx) -> None:
            await tx.add_history([entry])

        await self.store.write(work)

    async def _mark(self, actor: Actor, doc: Doc, resolution: fd.Resolution, reason: str,
                    detail: dict[str, Any]) -> Doc:
        async def work(tx: StoreTx) -> Doc:
            current = (await tx.get_docs(fd.KIND, [doc.id]))[doc.id]
            data = {**current.data, "status": fd.FindingStatus.RESOLVED.value, "resolution": {
                "how": resolution.value, "reason": reason, "by": actor.name,
                "at": now().isoformat(), "detail": detail}}
            new = current.model_copy(update={
                "data": data, "key": fd.doc_key("resolved", data["type"]),
                "version": current.version + 1, "updated_at": now()})
            progress = await tx.get_docs(fd.PROGRESS, [doc.parent or ""])
            versions = {k: v.version for k, v in progress.items()}
            if progress:
                fd.move_progress(progress[doc.parent or ""].data["places"], current, new)
            await tx.update_doc(new, current.version)
            await fd.save_progress(tx, progress, versions)
            return new

        return await self.store.write(work)
