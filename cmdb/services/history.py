"""Building history entries: what changed between two versions of a record."""

from __future__ import annotations

from typing import Any

from cmdb.model.records import (
    CI,
    Actor,
    EntityKind,
    FieldChange,
    HistoryAction,
    HistoryEntry,
    Relationship,
)

CI_FIELDS = ("class_name", "name", "state", "asset_tag", "serial_number")


def ci_changes(before: CI | None, after: CI) -> list[FieldChange]:
    """Per-field before/after of a CI; attributes appear as ``attributes.<name>``."""
    changes: list[FieldChange] = []
    for name in CI_FIELDS:
        old = getattr(before, name) if before else None
        new = getattr(after, name)
        if old != new:
            changes.append(FieldChange(field=name, before=old, after=new))
    old_attrs: dict[str, Any] = before.attributes if before else {}
    for key in sorted(set(old_attrs) | set(after.attributes)):
        old, new = old_attrs.get(key), after.attributes.get(key)
        if old != new:
            changes.append(FieldChange(field=f"attributes.{key}", before=old, after=new))
    return changes


def ci_entry(
    actor: Actor, action: HistoryAction, ci: CI, changes: list[FieldChange],
    reason: str | None = None,
) -> HistoryEntry:
    return HistoryEntry(
        actor=actor.name, channel=actor.channel, run_id=actor.run_id, action=action,
        entity_kind=EntityKind.CI, entity_id=ci.id, ci_id=ci.id, reason=reason,
        changes=changes, version=ci.version, at=ci.updated_at,
    )


def relationship_entry(
    actor: Actor, action: HistoryAction, rel: Relationship, reason: str | None = None
) -> HistoryEntry:
    changes = [
        FieldChange(field="type", before=None, after=rel.type),
        FieldChange(field="target", before=None, after=rel.target_id),
    ]
    if action is HistoryAction.UNRELATED:
        changes = [FieldChange(field="ended_at", before=None, after=rel.updated_at.isoformat())]
    for key, value in sorted(rel.attributes.items()):
        if action is HistoryAction.RELATED:
            changes.append(FieldChange(field=f"attributes.{key}", before=None, after=value))
    return HistoryEntry(
        actor=actor.name, channel=actor.channel, run_id=actor.run_id, action=action,
        entity_kind=EntityKind.RELATIONSHIP, entity_id=rel.id, ci_id=rel.source_id,
        peer_id=rel.target_id, reason=reason, changes=changes, version=rel.version,
        at=rel.updated_at,
    )
