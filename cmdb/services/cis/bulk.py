"""Many changes in one unit of work, written a batch at a time (imports, resolutions).

:class:`BulkWriter` applies the rules of :class:`~cmdb.services.cis.service.CIService`
(the same pure checks: class, attributes, lifecycle, relationship rules,
uniqueness) but sends the writes to the store in batches: new CIs, the
compare-and-set updates, the ended and the new relationships, the history.
The caller has read, in the same run, what the changes start from: each CI as
it is, and where it is located. Two rounds of questions per batch replace the
per-CI ones: who holds the new asset tags and serials, and what the new
relationships point at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cmdb.errors import ConflictError, DuplicateError, NotFoundError, RelationshipRuleError
from cmdb.model.records import (
    CI,
    Actor,
    HistoryAction,
    HistoryEntry,
    Provenance,
    Relationship,
    construct,
    new_id,
    now,
)
from cmdb.services.cis.history import ci_changes, ci_entry, relationship_entry
from cmdb.services.cis.inputs import CIChanges, NewCI
from cmdb.services.cis.rules import identifier_taken, new_identifiers
from cmdb.services.cis.service import DIRECTIONS, CIService
from cmdb.store.base import KeyField, StoreTx

BATCH = 2000


class BulkWriter:
    """Buffers CI creates, updates, moves and transitions; :meth:`flush` writes them."""

    def __init__(self, tx: StoreTx, cis: CIService, actor: Actor, reason: str | None,
                 batch: int = BATCH) -> None:
        self.tx = tx
        self.cis = cis
        self.actor = actor
        self.reason = reason
        self.batch = batch
        self.new_cis: dict[str, CI] = {}
        self.updates: dict[str, tuple[CI, int]] = {}  # id -> (new version, expected stored)
        self.ended: list[tuple[Relationship, int]] = []
        self.related: list[Relationship] = []
        self.history: list[HistoryEntry] = []
        self.claims: dict[tuple[KeyField, str], CI] = {}  # identifiers taken in this batch
        #: CIs this batch moves to a terminal state, with the state (the reason their
        #: relationships end when the caller gives none).
        self.disposing: dict[str, str] = {}
        #: CIs whose single-valued relationships the caller read in this unit of work
        #: and handed to :meth:`move`: nothing can have changed them since.
        self.fresh: set[str] = set()
        #: Relationship targets read in this unit of work (places, mostly: a few
        #: hundred for thousands of CIs), forgotten when this writer changes them.
        self.targets: dict[str, CI] = {}
        #: One time for the whole unit of work: its changes happen together.
        self.at = now()
        self.written = 0

    # ---- buffering ---------------------------------------------------------------
    def _claim(self, ci: CI, before: CI | None) -> None:
        for key in new_identifiers(ci, before):
            value = ci.asset_tag if key == "asset_tag" else ci.serial_key
            assert value is not None
            other = self.claims.get((key, value))
            if other is not None and other.id != ci.id:
                raise identifier_taken(ci, key, other.id)
            self.claims[(key, value)] = ci

    async def create(self, new: NewCI, *, ci_id: str | None = None,
                     provenance: dict[str, Provenance] | None = None,
                     checked: bool = False) -> CI:
        """A new CI, with its location and owner when given (``checked``: its attributes
        are already checked for the class, see :meth:`CIService.check_new`)."""
        info, ci = self.cis.check_new(new, ci_id, checked)
        if provenance:
            ci.provenance = dict(provenance)
        self._claim(ci, None)
        await self.cis.check_unique_attributes(self.tx, info, ci)
        self.new_cis[ci.id] = ci
        self.history.append(ci_entry(self.actor, HistoryAction.CREATED, ci,
                                     ci_changes(None, ci), self.reason))
        registry = self.cis.registry
        for rel_type, target in ((registry.location_type, new.location_id),
                                 (registry.owner_type, new.owner_id)):
            if target is not None:
                self.relate(ci, rel_type, target)
        await self._maybe_flush()
        return ci

    def _put(self, after: CI, before: CI) -> None:
        pending = self.updates.get(after.id)
        expected = pending[1] if pending else before.version
        self.updates[after.id] = (after, expected)

    async def update(self, before: CI, change: CIChanges,
                     provenance: dict[str, Provenance] | None,
                     located: Sequence[Relationship] = (), checked: bool = False,
                     fresh: bool = False) -> CI:
        """``before`` changed; ``located`` are its active ``LOCATED_IN`` relationships
        (as read with ``before``), needed when the change moves it (``fresh``: read in
        this unit of work); ``checked`` as for :meth:`create`."""
        info, after, diff = self.cis.changed(before, change, provenance, checked, self.at)
        if diff:
            self._claim(after, before)
            await self.cis.check_unique_attributes(self.tx, info, after, before)
            self._put(after, before)
            self.history.append(ci_entry(self.actor, HistoryAction.UPDATED, after, diff,
                                         self.reason))
        if "location_id" in change.model_fields_set:
            self.move(after, change.location_id, located, fresh)
        if "owner_id" in change.model_fields_set:
            raise NotImplementedError("owners are not set in bulk")  # pragma: no cover
        await self._maybe_flush()
        return after

    async def transition(self, before: CI, to: str, provenance: Provenance | None) -> CI:
        """``before`` moved to state ``to``. Disposing (a terminal state) also ends every
        relationship of the CI: those stored (asked at the flush) and those this batch made."""
        after = self.cis.transitioned(before, to, provenance, self.at)
        self._put(after, before)
        terminal = self.cis.registry.is_terminal(after.state)
        action = HistoryAction.DISPOSED if terminal else HistoryAction.TRANSITIONED
        self.history.append(ci_entry(self.actor, action, after, ci_changes(before, after),
                                     self.reason))
        if terminal:
            self.disposing[after.id] = after.state
        await self._maybe_flush()
        return after

    def move(self, ci: CI, target_id: str | None, located: Sequence[Relationship],
             fresh: bool = False) -> None:
        """Point the CI's one ``LOCATED_IN`` at ``target_id`` (ending the current one);
        ``fresh``: ``located`` was read in this unit of work."""
        if any(r.target_id == target_id for r in located):
            return
        if fresh:
            self.fresh.add(ci.id)
        for rel in located:
            self.end(rel)
        if target_id is not None:
            self.relate(ci, self.cis.registry.location_type, target_id)

    def end(self, rel: Relationship, reason: str | None = None) -> None:
        stamp = self.at
        ended = construct(Relationship, {**rel.__dict__, "ended_at": stamp, "updated_at": stamp,
                                         "version": rel.version + 1})
        self.ended.append((ended, rel.version))
        self.history.append(relationship_entry(self.actor, HistoryAction.UNRELATED, ended,
                                               reason or self.reason))

    def relate(self, source: CI, rel_type: str, target_id: str,
               attributes: dict[str, Any] | None = None) -> None:
        """A new relationship; its target is checked at the flush (one read per batch)."""
        if source.id == target_id:
            raise RelationshipRuleError("a CI cannot be related to itself", field="to")
        if self.cis.registry.is_terminal(source.state):
            raise RelationshipRuleError(
                f"CI {source.id} ({source.name}) is {source.state} and cannot be related",
                id=source.id)
        rel = construct(Relationship, {
            "id": new_id(), "type": rel_type, "source_id": source.id, "target_id": target_id,
            "attributes": dict(attributes or {}), "version": 1, "created_at": self.at,
            "updated_at": self.at,
            "ended_at": None})
        self.related.append(rel)
        self.history.append(relationship_entry(self.actor, HistoryAction.RELATED, rel))

    # ---- writing -----------------------------------------------------------------
    async def _maybe_flush(self) -> None:
        if len(self.history) >= self.batch:
            await self.flush()

    async def _check_claims(self) -> None:
        by_key: dict[KeyField, list[str]] = {}
        for key, value in self.claims:
            by_key.setdefault(key, []).append(value)
        for key, values in by_key.items():
            for value, holders in (await self.tx.holders(key, values)).items():
                ci = self.claims[(key, value)]
                # A holder this batch updates away from the value gives it up.
                others = [h for h in holders if h != ci.id and not self._gives_up(h, key, value)]
                if others:
                    raise identifier_taken(ci, key, others[0])

    def _gives_up(self, ci_id: str, key: KeyField, value: str) -> bool:
        pending = self.updates.get(ci_id)
        if pending is None:
            return False
        held = pending[0].asset_tag if key == "asset_tag" else pending[0].serial_key
        return held != value

    async def _check_targets(self) -> dict[str, CI]:
        known = self.targets
        wanted = sorted({r.target_id for r in self.related} - set(self.new_cis) - set(known))
        if wanted:
            known.update(await self.tx.get_cis(wanted))
        targets = {**known, **self.new_cis}
        sources = {**{i: c for i, (c, _) in self.updates.items()}, **self.new_cis}
        for rel in self.related:
            target = targets.get(rel.target_id)
            if target is None:
                raise NotFoundError(f"no CI with id {rel.target_id!r}", id=rel.target_id,
                                    field="to")
            if self.cis.registry.is_terminal(target.state):
                raise RelationshipRuleError(
                    f"CI {target.id} ({target.name}) is {target.state} and cannot be related",
                    id=target.id)
            source = sources.get(rel.source_id)
            source_class = source.class_name if source else None
            if source_class is None:
                found = await self.tx.get_ci(rel.source_id)
                if found is None:
                    raise NotFoundError(f"no CI with id {rel.source_id!r}", id=rel.source_id)
                source_class = found.class_name
            self.cis.registry.check_relationship(rel.type, source_class, target.class_name)
        await self._check_single()
        return targets

    async def _check_single(self) -> None:
        """A single-valued type (location, owner) stays single: the store is asked once per
        batch whether a CI gained one since the caller read it."""
        single = [r for r in self.related if self.cis.registry.relationship_type(r.type).single]
        pairs = [(r.source_id, r.type) for r in single]
        if len(set(pairs)) != len(pairs):
            raise DuplicateError("one CI is given two relationships of a single-valued type")
        ending = {rel.id for rel, _ in self.ended}
        location = self.cis.registry.location_type
        for rel_type in sorted({r.type for r in single}):
            sources = [r.source_id for r in single if r.type == rel_type
                       and r.source_id not in self.new_cis
                       and (rel_type != location or r.source_id not in self.fresh)]
            if not sources:
                continue
            current = await self.tx.active_relationships_of(sources, "out", [rel_type])
            for ci_id, rels in current.items():
                kept = [r for r in rels if r.id not in ending]
                if kept:
                    raise ConflictError(
                        f"CI {ci_id} already has a {rel_type} relationship ({kept[0].id}): "
                        "it changed since it was read", id=ci_id, existingId=kept[0].id)

    async def _end_disposed(self) -> None:
        """The relationships of the CIs disposed in this batch end with them."""
        ending = {rel.id for rel, _ in self.ended}
        for direction in DIRECTIONS:
            current = await self.tx.active_relationships_of(sorted(self.disposing), direction)
            for ci_id, rels in current.items():
                for rel in rels:
                    if rel.id not in ending:
                        ending.add(rel.id)
                        self.end(rel, self.reason or self.disposing[ci_id])
        for i, rel in enumerate(self.related):
            state = self.disposing.get(rel.source_id) or self.disposing.get(rel.target_id)
            if rel.ended_at is None and state is not None:
                stamp = self.at
                self.related[i] = construct(Relationship, {**rel.__dict__, "ended_at": stamp,
                                                           "updated_at": stamp})
                self.history.append(relationship_entry(
                    self.actor, HistoryAction.UNRELATED, self.related[i],
                    self.reason or state))

    async def flush(self) -> None:
        """Write what is buffered (inside the caller's unit of work)."""
        if self.disposing:
            await self._end_disposed()
        await self._check_claims()
        if self.related:
            await self._check_targets()
        if self.new_cis:
            await self.tx.insert_cis(list(self.new_cis.values()))
        if self.updates:
            await self.tx.update_cis(list(self.updates.values()))
            for ci_id in self.updates:
                self.targets.pop(ci_id, None)
        if self.ended:
            await self.tx.update_relationships(self.ended)
        if self.related:
            await self.tx.insert_relationships(self.related)
        if self.history:
            await self.tx.add_history(self.history)
        self.written += len(self.history)
        self.new_cis, self.updates, self.claims, self.disposing = {}, {}, {}, {}
        self.fresh = set()
        self.ended, self.related, self.history = [], [], []
