"""Creating, changing, moving through the lifecycle and relating configuration items.

Every change has one primitive, ``<verb>_in(tx, ...)``, that works inside the caller's
unit of work and returns what it made with the history entries to add (an audit's
resolution or an import runs several in one). The public method of the same verb
checks the caller's input, and runs the primitive as a unit of work of its own
(:meth:`CIService._write`): the checks, the change and its history commit together or
not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from cmdb.errors import ConflictError, DuplicateError, NotFoundError, RelationshipRuleError
from cmdb.model.attributes import MAX_STRING, check_attributes
from cmdb.model.clock import Clock
from cmdb.model.records import CI, Actor, HistoryAction, HistoryEntry, Provenance, Relationship, now
from cmdb.model.registry import ClassInfo, Registry
from cmdb.model.text import NAME, REASON, check_text
from cmdb.services.cis.history import ci_changes, ci_entry, relationship_entry
from cmdb.services.cis.inputs import CIChanges, NewCI
from cmdb.services.cis.places import location_path
from cmdb.services.cis.rules import (
    CIRules,
    identifier_taken,
    new_identifiers,
    parse_input,
    raise_stale,
)
from cmdb.store.base import Direction, Store, StoreTx

DIRECTIONS: tuple[Direction, ...] = ("out", "in")
T = TypeVar("T")
Done = tuple[T, list[HistoryEntry]]
"""What a ``*_in`` primitive returns: what it made, and the history to add."""


class CIService(CIRules):
    """The rules of the CMDB for CIs and relationships, over any store."""

    def __init__(self, store: Store, registry: Registry, clock: Clock | None = None) -> None:
        super().__init__(registry, clock)
        self.store = store

    # ---- helpers -------------------------------------------------------------
    async def _write(self, work: Callable[[StoreTx], Awaitable[Done[T]]]) -> T:
        """Run a primitive as a unit of work of its own, adding the history it returns."""

        async def run(tx: StoreTx) -> T:
            out, history = await work(tx)
            await tx.add_history(history)
            return out

        return await self.store.write(run)

    async def _get(self, tx: StoreTx, ci_id: str, expected_version: int | None = None) -> CI:
        """The CI ``ci_id`` as stored; a stale ``expected_version`` is refused."""
        ci = await tx.get_ci(ci_id)
        if ci is None:
            raise NotFoundError(f"no CI with id {ci_id!r}", id=ci_id)
        if expected_version is not None and ci.version != expected_version:
            raise_stale(ci, expected_version)
        return ci

    async def _check_unique(self, tx: StoreTx, info: ClassInfo, ci: CI,
                            before: CI | None = None) -> None:
        """Refuse values another CI holds; values ``before`` already had were checked."""
        for key in new_identifiers(ci, before):
            value = ci.asset_tag if key == "asset_tag" else ci.serial_key
            assert value is not None
            taken = [i for i in (await tx.holders(key, [value])).get(value, []) if i != ci.id]
            if taken:
                raise identifier_taken(ci, key, taken[0])
        await self.check_unique_attributes(tx, info, ci, before)

    async def check_unique_attributes(self, tx: StoreTx, info: ClassInfo, ci: CI,
                                      before: CI | None = None) -> None:
        """Refuse a ``unique`` attribute value another CI of the class family holds."""
        for name, d in info.attributes.items():
            value = ci.attributes.get(name)
            if not d.unique or value is None or (
                    before is not None and before.attributes.get(name) == value):
                continue
            classes = [c for c, i in self.registry.classes.items() if name in i.attributes]
            taken = [i for i in await tx.find_ci_ids_by_attribute(classes, name, value)
                     if i != ci.id]
            if taken:
                raise DuplicateError(
                    f"attribute {name!r} value {value!r} is already used by CI {taken[0]}",
                    field=name, existingId=taken[0],
                )

    async def _set_single(
        self, tx: StoreTx, actor: Actor, ci: CI, rel_type: str, target_id: str | None,
        history: list[HistoryEntry],
    ) -> None:
        """Point the CI's one relationship of ``rel_type`` (its place, its owner) at
        ``target_id``."""
        current = await tx.active_relationships(ci.id, "out", [rel_type])
        if any(r.target_id == target_id for r in current):
            return
        for rel in current:
            history.append(await self._end(tx, actor, rel, None))
        if target_id is not None:
            _, entries = await self.relate_in(tx, actor, ci, rel_type, target_id)
            history += entries

    async def _end(
        self, tx: StoreTx, actor: Actor, rel: Relationship, reason: str | None
    ) -> HistoryEntry:
        stamp = now()
        ended = rel.model_copy(update={"ended_at": stamp, "updated_at": stamp,
                                       "version": rel.version + 1})
        await tx.update_relationship(ended, rel.version)
        return relationship_entry(actor, HistoryAction.UNRELATED, ended, reason)

    # ---- CIs ---------------------------------------------------------------------
    async def create_in(
        self, tx: StoreTx, actor: Actor, new: NewCI, *, ci_id: str | None = None,
        provenance: dict[str, Provenance] | None = None, reason: str | None = None,
    ) -> Done[CI]:
        """Create a CI, with its location and owner when given."""
        info, ci = self.check_new(new, ci_id)
        if provenance:
            ci.provenance = dict(provenance)
        await self._check_unique(tx, info, ci)
        await tx.insert_ci(ci)
        history = [ci_entry(actor, HistoryAction.CREATED, ci, ci_changes(None, ci), reason)]
        for rel_type, target in ((self.registry.location_type, new.location_id),
                                 (self.registry.owner_type, new.owner_id)):
            if target is not None:
                _, entries = await self.relate_in(tx, actor, ci, rel_type, target)
                history += entries
        return ci, history

    async def create(self, actor: Actor, data: NewCI | dict[str, Any]) -> CI:
        """Register a new CI, with its location and owner when given."""
        new = data if isinstance(data, NewCI) else parse_input(NewCI, data)
        self.registry.refuse_system(new.attributes, "createCI")
        self.check_new(new)
        return await self._write(lambda tx: self.create_in(tx, actor, new))

    async def update_in(
        self, tx: StoreTx, actor: Actor, before: CI, change: CIChanges,
        reason: str | None = None, provenance: dict[str, Provenance] | None = None,
    ) -> Done[CI]:
        """Change ``before`` (as read by the caller).

        The write is a compare-and-set on ``before.version``. ``provenance`` says which
        source set the changed fields; without it the change is a manual one, and the
        provenance of the fields it changes is dropped (no provenance = set by hand).
        """
        info, after, diff = self.changed(before, change, provenance)
        history: list[HistoryEntry] = []
        if diff:
            await self._check_unique(tx, info, after, before)
            await tx.update_ci(after, before.version)
            history.append(ci_entry(actor, HistoryAction.UPDATED, after, diff, reason))
        fields = change.model_fields_set
        if "location_id" in fields:
            await self._set_single(tx, actor, after, self.registry.location_type,
                                   change.location_id, history)
        if "owner_id" in fields:
            await self._set_single(tx, actor, after, self.registry.owner_type,
                                   change.owner_id, history)
        return after, history

    async def update(
        self, actor: Actor, ci_id: str, expected_version: int,
        changes: CIChanges | dict[str, Any], reason: str | None = None,
    ) -> CI:
        """Change a CI that is still at ``expected_version``; a stale version is refused."""
        change = changes if isinstance(changes, CIChanges) else parse_input(CIChanges, changes)
        self.registry.refuse_system(change.attributes or {}, "updateCI")
        check_text(reason, "reason", REASON)

        async def work(tx: StoreTx) -> Done[CI]:
            before = await self._get(tx, ci_id, expected_version)
            return await self.update_in(tx, actor, before, change, reason)

        return await self._write(work)

    async def transition_in(
        self, tx: StoreTx, actor: Actor, before: CI, to: str, reason: str | None = None,
        provenance: Provenance | None = None,
    ) -> Done[CI]:
        """Move ``before`` to state ``to``; a terminal state (disposal) ends every
        relationship of the CI."""
        after = self.transitioned(before, to, provenance)
        await tx.update_ci(after, before.version)
        terminal = self.registry.is_terminal(after.state)
        action = HistoryAction.DISPOSED if terminal else HistoryAction.TRANSITIONED
        history = [ci_entry(actor, action, after, ci_changes(before, after), reason)]
        if terminal:
            for direction in DIRECTIONS:
                for rel in await tx.active_relationships(before.id, direction):
                    history.append(await self._end(tx, actor, rel, reason or after.state))
        return after, history

    async def transition(
        self, actor: Actor, ci_id: str, to: str, reason: str | None = None,
        expected_version: int | None = None,
    ) -> CI:
        """Move a CI to another lifecycle state, if the lifecycle allows it."""
        check_text(reason, "reason", REASON)

        async def work(tx: StoreTx) -> Done[CI]:
            before = await self._get(tx, ci_id, expected_version)
            return await self.transition_in(tx, actor, before, to, reason)

        return await self._write(work)

    async def dispose(
        self, actor: Actor, ci_id: str, reason: str | None = None,
        expected_version: int | None = None,
    ) -> CI:
        """Dispose of a CI (to the schema's first terminal state): it stays queryable,
        its relationships end."""
        return await self.transition(actor, ci_id, self.registry.disposed_state, reason,
                                     expected_version)

    async def system_attributes_in(
        self, tx: StoreTx, actor: Actor, ids: Sequence[str], values: dict[str, Any],
        reason: str | None = None,
    ) -> Done[list[CI]]:
        """Record a fact about CIs (e.g. a label printed): see :meth:`set_system_attributes`."""
        self.check_system_values(values)
        found = await tx.get_cis(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(f"no CI with id {missing[0]!r}", id=missing[0])
        out: list[CI] = []
        history: list[HistoryEntry] = []
        for ci_id in ids:
            before = found[ci_id]
            info = self.registry.class_info(before.class_name)
            merged = dict(before.attributes)
            for key, value in check_attributes(info, values, complete=False,
                                               zone=self.clock.zone).items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            after = before.model_copy(update={"attributes": merged, "updated_at": now(),
                                              "version": before.version + 1})
            diff = ci_changes(before, after)
            if not diff:
                out.append(before)
                continue
            await tx.update_ci(after, before.version)
            history.append(ci_entry(actor, HistoryAction.UPDATED, after, diff, reason))
            out.append(after)
        return out, history

    async def set_system_attributes(
        self, actor: Actor, ci_ids: Sequence[str], values: dict[str, Any],
        reason: str | None = None,
    ) -> list[CI]:
        """Record a fact about CIs (e.g. a label printed), in one unit of work.

        Only the schema's ``system: true`` attributes may be set. There is no ``expectedVersion``:
        the fact does not depend on what the caller read, so the current version is
        read inside the transaction. Disposed CIs are accepted too, since a label
        printed for one is still a fact worth keeping. Each CI gets a history entry
        and a new version; the CIs come back in the order of ``ci_ids``.
        """
        self.check_system_values(values)
        ids = list(dict.fromkeys(ci_ids))
        return await self._write(
            lambda tx: self.system_attributes_in(tx, actor, ids, values, reason))

    # ---- relationships -----------------------------------------------------------
    async def location_path(self, ci: CI) -> list[CI]:
        """Where the CI is, outermost place first (site, building, room, rack)."""
        return await location_path(self.store, self.registry, ci)

    async def relate_in(
        self, tx: StoreTx, actor: Actor, source: CI, rel_type: str, target_id: str,
        attributes: dict[str, Any] | None = None,
    ) -> Done[Relationship]:
        """Create ``source -[rel_type]-> target`` if the schema allows it."""
        target = await tx.get_ci(target_id)
        if target is None:
            raise NotFoundError(f"no CI with id {target_id!r}", id=target_id, field="to")
        if source.id == target.id:
            raise RelationshipRuleError("a CI cannot be related to itself", field="to")
        for end in (source, target):
            if self.registry.is_terminal(end.state):
                raise RelationshipRuleError(
                    f"CI {end.id} ({end.name}) is {end.state} and cannot be related", id=end.id
                )
        self.registry.check_relationship(rel_type, source.class_name, target.class_name)
        if self.registry.relationship_type(rel_type).single:
            existing = await tx.active_relationships(source.id, "out", [rel_type])
            if existing:
                raise ConflictError(
                    f"{source.name} already has a {rel_type} relationship "
                    f"({existing[0].id}); end it first or update the CI",
                    field="type", existingId=existing[0].id,
                )
        rel = Relationship(type=rel_type, source_id=source.id, target_id=target.id,
                           attributes=dict(attributes or {}))
        await tx.insert_relationship(rel)
        return rel, [relationship_entry(actor, HistoryAction.RELATED, rel)]

    async def relate(
        self, actor: Actor, source_id: str, rel_type: str, target_id: str,
        attributes: dict[str, Any] | None = None,
    ) -> Relationship:
        """Create ``source -[rel_type]-> target`` if the schema allows it (the type by its
        name or its English or Chinese label)."""
        rel_type = self.registry.type_name(rel_type)
        if attributes:
            for key, value in attributes.items():
                check_text(key, "attributes", NAME, single_line=True)
                if isinstance(value, str):
                    check_text(value, f"attributes.{key}", MAX_STRING)

        async def work(tx: StoreTx) -> Done[Relationship]:
            source = await tx.get_ci(source_id)
            if source is None:
                raise NotFoundError(f"no CI with id {source_id!r}", id=source_id, field="from")
            rel, history = await self.relate_in(tx, actor, source, rel_type, target_id,
                                                attributes)
            return (await tx.get_relationships([rel.id]))[rel.id], history

        return await self._write(work)

    async def unrelate(
        self, actor: Actor, relationship_id: str, reason: str | None = None
    ) -> Relationship:
        """End a relationship; it stays in history."""
        check_text(reason, "reason", REASON)

        async def work(tx: StoreTx) -> Done[Relationship]:
            rel = (await tx.get_relationships([relationship_id])).get(relationship_id)
            if rel is None:
                raise NotFoundError(f"no relationship with id {relationship_id!r}",
                                    id=relationship_id)
            if rel.ended_at is not None:
                raise ConflictError(f"relationship {relationship_id} has already ended",
                                    id=relationship_id)
            entry = await self._end(tx, actor, rel, reason)
            return (await tx.get_relationships([relationship_id]))[relationship_id], [entry]

        return await self._write(work)
