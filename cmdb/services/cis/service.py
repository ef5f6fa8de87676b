"""Creating, changing, moving through the lifecycle and relating configuration items.

Every method runs as one unit of work on the store: the checks, the change and
its history entries commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from cmdb.errors import (
    ConflictError,
    DuplicateError,
    NotFoundError,
    RelationshipRuleError,
    ValidationError,
    VersionConflictError,
)
from cmdb.model.attributes import MAX_STRING, check_attributes, check_required
from cmdb.model.clock import Clock
from cmdb.model.records import (
    CI,
    Actor,
    FieldChange,
    HistoryAction,
    HistoryEntry,
    Provenance,
    Relationship,
    construct,
    now,
)
from cmdb.model.registry import ClassInfo, Registry
from cmdb.model.text import NAME, REASON, check_text
from cmdb.services.cis.history import ci_changes, ci_entry, relationship_entry
from cmdb.services.cis.inputs import CIChanges, NewCI
from cmdb.store.base import Direction, KeyField, Store, StoreTx

DISPOSED = "disposed"
LOCATION, OWNER = "LOCATED_IN", "OWNED_BY"
DIRECTIONS: tuple[Direction, ...] = ("out", "in")


def parse_input(model: type[NewCI] | type[CIChanges], data: dict[str, Any]) -> Any:
    """Validate caller input, turning pydantic's error into a coded one naming the field."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ValidationError(f"{field}: {message}" if field else message, field=field) from exc


class CIService:
    """The rules of the CMDB for CIs and relationships, over any store."""

    def __init__(self, store: Store, registry: Registry, clock: Clock | None = None) -> None:
        self.store = store
        self.registry = registry
        #: The zone a date-time attribute written without an offset is read in.
        self.clock = clock or Clock()

    # ---- helpers -------------------------------------------------------------
    async def _get(self, tx: StoreTx, ci_id: str) -> CI:
        ci = await tx.get_ci(ci_id)
        if ci is None:
            raise NotFoundError(f"no CI with id {ci_id!r}", id=ci_id)
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
        """Point the CI's one ``LOCATED_IN``/``OWNED_BY`` relationship at ``target_id``."""
        current = await tx.active_relationships(ci.id, "out", [rel_type])
        if any(r.target_id == target_id for r in current):
            return
        for rel in current:
            history.append(await self._end(tx, actor, rel, None))
        if target_id is not None:
            history.append(await self._relate(tx, actor, ci, rel_type, target_id, {}))

    async def _relate(
        self, tx: StoreTx, actor: Actor, source: CI, rel_type: str, target_id: str,
        attributes: dict[str, Any],
    ) -> HistoryEntry:
        target = await tx.get_ci(target_id)
        if target is None:
            raise NotFoundError(f"no CI with id {target_id!r}", id=target_id, field="to")
        if source.id == target.id:
            raise RelationshipRuleError("a CI cannot be related to itself", field="to")
        for end in (source, target):
            if end.state == DISPOSED:
                raise RelationshipRuleError(
                    f"CI {end.id} ({end.name}) is disposed and cannot be related", id=end.id
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
                           attributes=dict(attributes))
        await tx.insert_relationship(rel)
        return relationship_entry(actor, HistoryAction.RELATED, rel)

    async def _end(
        self, tx: StoreTx, actor: Actor, rel: Relationship, reason: str | None
    ) -> HistoryEntry:
        stamp = now()
        ended = rel.model_copy(update={"ended_at": stamp, "updated_at": stamp,
                                       "version": rel.version + 1})
        await tx.update_relationship(ended, rel.version)
        return relationship_entry(actor, HistoryAction.UNRELATED, ended, reason)

    async def relate_in(
        self, tx: StoreTx, actor: Actor, source: CI, rel_type: str, target_id: str,
    ) -> HistoryEntry:
        """Relate inside the caller's unit of work (the rules of :meth:`relate`)."""
        return await self._relate(tx, actor, source, rel_type, target_id, {})

    async def end_in(
        self, tx: StoreTx, actor: Actor, rel: Relationship, reason: str | None = None
    ) -> HistoryEntry:
        """End a relationship inside the caller's unit of work."""
        return await self._end(tx, actor, rel, reason)

    # ---- CIs ---------------------------------------------------------------------
    def canonical_maker(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """``attributes`` with the manufacturer as the vendor table names it (戴尔 and
        "Dell Inc." are kept as ``Dell``; an unknown name as written, trimmed): serial
        numbers are unique per manufacturer, whoever writes them and however."""
        maker = attributes.get("manufacturer")
        if isinstance(maker, str):
            canonical = self.registry.vendors.normalise(maker)
            if canonical != maker:
                return {**attributes, "manufacturer": canonical}
        return attributes

    def check_new(self, new: NewCI, ci_id: str | None = None,
                  checked: bool = False) -> tuple[ClassInfo, CI]:
        """Check a new CI against the schema (no store needed) and build the record.
        ``checked``: the caller has already checked and normalised the attributes for the
        class (an import's reconciliation); only required ones are checked again."""
        info = self.registry.concrete_class(new.class_name)
        state = self.registry.check_state(new.state or self.registry.lifecycle.initial)
        if checked:
            check_required(info, new.attributes)
            attributes = {k: v for k, v in new.attributes.items() if v is not None}
        else:
            normalised = check_attributes(info, new.attributes, complete=True,
                                          zone=self.clock.zone)
            attributes = {k: v for k, v in normalised.items() if v is not None}
        attributes = self.canonical_maker(attributes)
        ci = CI(class_name=info.name, name=new.name, state=state, asset_tag=new.asset_tag,
                serial_number=new.serial_number, attributes=attributes)
        if ci_id is not None:
            ci.id = ci_id
        return info, ci

    async def create_in(
        self, tx: StoreTx, actor: Actor, new: NewCI, *, ci_id: str | None = None,
        provenance: dict[str, Provenance] | None = None, reason: str | None = None,
    ) -> tuple[CI, list[HistoryEntry]]:
        """Create a CI inside the caller's unit of work; the history is returned, not added."""
        info, ci = self.check_new(new, ci_id)
        if provenance:
            ci.provenance = dict(provenance)
        await self._check_unique(tx, info, ci)
        await tx.insert_ci(ci)
        history = [ci_entry(actor, HistoryAction.CREATED, ci, ci_changes(None, ci), reason)]
        for rel_type, target in ((LOCATION, new.location_id), (OWNER, new.owner_id)):
            if target is not None:
                history.append(await self._relate(tx, actor, ci, rel_type, target, {}))
        return ci, history

    async def create(self, actor: Actor, data: NewCI | dict[str, Any]) -> CI:
        """Register a new CI, with its location and owner when given."""
        new = data if isinstance(data, NewCI) else parse_input(NewCI, data)
        self.registry.refuse_system(new.attributes, "createCI")
        self.check_new(new)

        async def work(tx: StoreTx) -> CI:
            ci, history = await self.create_in(tx, actor, new)
            await tx.add_history(history)
            return ci

        return await self.store.write(work)

    def changed(
        self, before: CI, change: CIChanges, provenance: dict[str, Provenance] | None = None,
        checked: bool = False, at: datetime | None = None,
    ) -> tuple[ClassInfo, CI, list[FieldChange]]:
        """``before`` with ``change`` applied (checked against the class; no store needed):
        the new version and what changed (``before`` itself when nothing did).
        ``checked``: as for :meth:`check_new`; ``at``: when (default now)."""
        fields = change.model_fields_set
        if before.state == DISPOSED:
            raise ConflictError(f"CI {before.name} is disposed and cannot change", id=before.id)
        info = self.registry.class_info(before.class_name)
        update: dict[str, Any] = {}
        if "name" in fields:
            if change.name is None:
                raise ValidationError("name: a CI must have a name", field="name")
            update["name"] = change.name
        for key in ("asset_tag", "serial_number"):
            if key in fields:
                update[key] = getattr(change, key)
        if change.attributes is not None:
            merged = dict(before.attributes)
            values = self.canonical_maker(
                change.attributes if checked else
                check_attributes(info, change.attributes, complete=False,
                                 zone=self.clock.zone))
            for key, value in values.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            check_required(info, merged)  # the stored values were checked when written
            update["attributes"] = merged
        after = construct(CI, {**before.__dict__, **update, "version": before.version + 1,
                               "updated_at": at or now()})
        # Only the attributes the change names can differ.
        diff = ci_changes(before, after, change.attributes or ())
        if not diff:
            return info, before, diff
        changed = {c.field.removeprefix("attributes.") for c in diff}
        kept = {k: v for k, v in before.provenance.items() if k not in changed}
        after.provenance = {**kept, **(provenance or {})}
        return info, after, diff

    def transitioned(self, before: CI, to: str, provenance: Provenance | None = None,
                     at: datetime | None = None) -> CI:
        """``before`` moved to state ``to``, if the lifecycle allows it (no store needed)."""
        to = self.registry.check_transition(before.state, to)
        after = construct(CI, {**before.__dict__, "state": to, "version": before.version + 1,
                               "updated_at": at or now()})
        after.provenance = {k: v for k, v in before.provenance.items() if k != "state"}
        if provenance is not None:
            after.provenance["state"] = provenance
        return after

    async def update_in(
        self, tx: StoreTx, actor: Actor, before: CI, change: CIChanges,
        reason: str | None = None, provenance: dict[str, Provenance] | None = None,
    ) -> tuple[CI, list[HistoryEntry]]:
        """Change ``before`` (as read by the caller) inside the caller's unit of work.

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
            await self._set_single(tx, actor, after, LOCATION, change.location_id, history)
        if "owner_id" in fields:
            await self._set_single(tx, actor, after, OWNER, change.owner_id, history)
        return after, history

    async def update(
        self, actor: Actor, ci_id: str, expected_version: int,
        changes: CIChanges | dict[str, Any], reason: str | None = None,
    ) -> CI:
        """Change a CI that is still at ``expected_version``; a stale version is refused."""
        change = changes if isinstance(changes, CIChanges) else parse_input(CIChanges, changes)
        self.registry.refuse_system(change.attributes or {}, "updateCI")
        check_text(reason, "reason", REASON)

        async def work(tx: StoreTx) -> CI:
            before = await self._get(tx, ci_id)
            if before.version != expected_version:
                raise_stale(before, expected_version)
            after, history = await self.update_in(tx, actor, before, change, reason)
            await tx.add_history(history)
            return after

        return await self.store.write(work)

    async def transition_in(
        self, tx: StoreTx, actor: Actor, before: CI, to: str, reason: str | None = None,
        provenance: Provenance | None = None,
    ) -> tuple[CI, list[HistoryEntry]]:
        """Move ``before`` to state ``to`` inside the caller's unit of work."""
        after = self.transitioned(before, to, provenance)
        await tx.update_ci(after, before.version)
        action = HistoryAction.DISPOSED if to == DISPOSED else HistoryAction.TRANSITIONED
        history = [ci_entry(actor, action, after, ci_changes(before, after), reason)]
        if to == DISPOSED:
            for direction in DIRECTIONS:
                for rel in await tx.active_relationships(before.id, direction):
                    history.append(await self._end(tx, actor, rel, reason or "disposed"))
        return after, history

    async def transition(
        self, actor: Actor, ci_id: str, to: str, reason: str | None = None,
        expected_version: int | None = None,
    ) -> CI:
        """Move a CI to another lifecycle state, if the lifecycle allows it."""
        check_text(reason, "reason", REASON)

        async def work(tx: StoreTx) -> CI:
            before = await self._get(tx, ci_id)
            if expected_version is not None and before.version != expected_version:
                raise_stale(before, expected_version)
            after, history = await self.transition_in(tx, actor, before, to, reason)
            await tx.add_history(history)
            return after

        return await self.store.write(work)

    async def dispose(
        self, actor: Actor, ci_id: str, reason: str | None = None,
        expected_version: int | None = None,
    ) -> CI:
        """Dispose of a CI: it stays queryable, its relationships end."""
        return await self.transition(actor, ci_id, DISPOSED, reason, expected_version)

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
        unknown = sorted(set(values) - self.registry.system_attributes)
        if unknown:
            raise ValidationError(
                f"{', '.join(unknown)}: not attributes the CMDB keeps itself",
                field=unknown[0],
            )
        ids = list(dict.fromkeys(ci_ids))

        async def work(tx: StoreTx) -> list[CI]:
            out, history = await self.system_attributes_in(tx, actor, ids, values, reason)
            await tx.add_history(history)
            return out

        return await self.store.write(work)

    async def system_attributes_in(
        self, tx: StoreTx, actor: Actor, ids: Sequence[str], values: dict[str, Any],
        reason: str | None = None,
    ) -> tuple[list[CI], list[HistoryEntry]]:
        """:meth:`set_system_attributes` inside the caller's unit of work (the history is
        returned, not added)."""
        unknown = sorted(set(values) - self.registry.system_attributes)
        if unknown:
            raise ValidationError(f"{', '.join(unknown)}: not attributes the CMDB keeps itself",
                                  field=unknown[0])
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

    # ---- relationships -----------------------------------------------------------
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

        async def work(tx: StoreTx) -> Relationship:
            source = await tx.get_ci(source_id)
            if source is None:
                raise NotFoundError(f"no CI with id {source_id!r}", id=source_id, field="from")
            entry = await self._relate(tx, actor, source, rel_type, target_id, attributes or {})
            await tx.add_history([entry])
            rel = (await tx.get_relationships([entry.entity_id]))[entry.entity_id]
            return rel

        return await self.store.write(work)

    async def unrelate(
        self, actor: Actor, relationship_id: str, reason: str | None = None
    ) -> Relationship:
        """End a relationship; it stays in history."""
        check_text(reason, "reason", REASON)

        async def work(tx: StoreTx) -> Relationship:
            rel = (await tx.get_relationships([relationship_id])).get(relationship_id)
            if rel is None:
                raise NotFoundError(f"no relationship with id {relationship_id!r}",
                                    id=relationship_id)
            if rel.ended_at is not None:
                raise ConflictError(f"relationship {relationship_id} has already ended",
                                    id=relationship_id)
            entry = await self._end(tx, actor, rel, reason)
            await tx.add_history([entry])
            return (await tx.get_relationships([relationship_id]))[relationship_id]

        return await self.store.write(work)


def new_identifiers(ci: CI, before: CI | None) -> list[KeyField]:
    """The identifiers (asset tag, serial key) ``ci`` holds that ``before`` did not."""
    out: list[KeyField] = []
    if ci.asset_tag and not (before and before.asset_tag == ci.asset_tag):
        out.append("asset_tag")
    if not ci.serial_number:
        return out
    if before is not None and before.serial_number == ci.serial_number and \
            before.attributes.get("manufacturer") == ci.attributes.get("manufacturer"):
        return out  # the same serial of the same maker: the same key
    if ci.serial_key and not (before and before.serial_key == ci.serial_key):
        out.append("serial_key")
    return out


def identifier_taken(ci: CI, key: KeyField, holder: str) -> DuplicateError:
    """The error for ``ci`` wanting an asset tag or serial CI ``holder`` already has."""
    if key == "asset_tag":
        return DuplicateError(f"asset tag {ci.asset_tag!r} is already used by CI {holder}",
                              field="assetTag", existingId=holder)
    return DuplicateError(
        f"serial number {ci.serial_number!r} of manufacturer "
        f"{ci.manufacturer or '(none)'!r} is already used by CI {holder}",
        field="serialNumber", existingId=holder)


def raise_stale(ci: CI, expected: int) -> None:
    """Refuse a change made against a version that is no longer current."""
    raise VersionConflictError(
        f"CI {ci.id} is at version {ci.version}, not {expected}: someone changed it since "
        "you read it; read it again and retry",
        id=ci.id, expectedVersion=expected, currentVersion=ci.version,
    )
