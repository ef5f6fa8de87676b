"""Building history entries: what changed between two versions of a record."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cmdb.model.records import (
    CI,
    Actor,
    EntityKind,
    FieldChange,
    HistoryAction,
    HistoryEntry,
    Relationship,
    construct,
    new_id,
)

CI_FIELDS = ("class_name", "name", "state", "asset_tag", "serial_number")


def ci_changes(before: CI | None, after: CI,
               attributes: Iterable[str] | None = None) -> list[FieldChange]:
    """Per-field before/after of a CI; attributes appear as ``attributes.<name>``
    (only those named in ``attributes``, when the caller knows which may differ)."""
    changes: list[FieldChange] = []
    for name in CI_FIELDS:
        old = getattr(before, name) if before else None
        new = getattr(after, name)
        if old != new:
            changes.append(_change(name, old, new))
    old_attrs: dict[str, Any] = before.attributes if before else {}
    keys = set(old_attrs) | set(after.attributes) if attributes is None else set(attributes)
    for key in sorted(keys):
        old, new = old_attrs.get(key), after.attributes.get(key)
        if old != new:
            changes.append(_change(f"attributes.{key}", old, new))
    return changes


def _change(field: str, before: Any, after: Any) -> FieldChange:
    return FieldChange(field, before, after)


def _entry(actor: Actor, action: HistoryAction, kind: EntityKind, entity_id: str, ci_id: str,
           peer_id: str | None, reason: str | None, changes: list[FieldChange],
           version: int | None, at: datetime) -> HistoryEntry:
    return construct(HistoryEntry, {
        "id": new_id(), "at": at, "actor": actor.name, "channel": actor.channel,
        "run_id": actor.run_id, "action": action, "entity_kind": kind,
        "entity_id": entity_id, "ci_id": ci_id, "peer_id": peer_id, "reason": reason,
        "changes": changes, "version": version})


def ci_entry(
    actor: Actor, action: HistoryAction, ci: CI, changes: list[FieldChange],
    reason: str | None = None,
) -> HistoryEntry:
    return _entry(actor, action, EntityKind.CI, ci.id, ci.id, None, reason, changes,
                  ci.version, ci.updated_at)


def relationship_entry(
    actor: Actor, action: HistoryAction, rel: Relationship, reason: str | None = None
) -> HistoryEntry:
    changes = [_change("type", None, rel.type), _change("target", None, rel.target_id)]
    if action is HistoryAction.UNRELATED:
        changes = [_change("ended_at", None, rel.updated_at.isoformat())]
    for key, value in sorted(rel.attributes.items()):
        if action is HistoryAction.RELATED:
            changes.append(_change(f"attributes.{key}", None, value))
    return _entry(actor, action, EntityKind.RELATIONSHIP, rel.id, rel.source_id, rel.target_id,
                  reason, changes, rel.version, rel.updated_at)
