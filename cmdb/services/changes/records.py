"""What a change record is, and how it is kept.

The only module that knows a change's storage kind and the keys of its stored data:
the service, the API and the CLI read a :class:`Change`'s attributes. The stored shape is
the one changes have always had (times as ISO 8601 text in UTC), so records planned by
earlier versions read the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cmdb.model.records import Doc
from cmdb.store.base import Store, StoreTx

KIND = "change"
#: The state of a change recorded without one.
DRAFT = "draft"


class DocReader(Protocol):
    """A store or a unit of work: what reading records by id needs."""

    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]: ...


@dataclass(frozen=True)
class ImpactItem:
    """A CI the change's impact reached, as planned: its status and, for an impacted CI
    (not a service), the CI the failure reached it from and the relationship's type."""

    ci_id: str
    status: str
    depth: int | None = None
    reached_from: str | None = None
    via: str | None = None


@dataclass(frozen=True)
class ChangeImpact:
    """The impact as computed when the change was planned (or recomputed)."""

    computed_at: datetime
    truncated: bool
    impacted: tuple[ImpactItem, ...]
    services: tuple[ImpactItem, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "computed_at": self.computed_at.isoformat(), "truncated": self.truncated,
            "impacted": [{"id": i.ci_id, "status": i.status, "depth": i.depth,
                          "from": i.reached_from, "via": i.via} for i in self.impacted],
            "services": [{"id": s.ci_id, "status": s.status} for s in self.services],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeImpact:
        def item(raw: Mapping[str, Any]) -> ImpactItem:
            depth = raw.get("depth")
            return ImpactItem(ci_id=str(raw["id"]), status=str(raw["status"]),
                              depth=int(depth) if depth is not None else None,
                              reached_from=raw.get("from") or None, via=raw.get("via") or None)

        return cls(computed_at=datetime.fromisoformat(data["computed_at"]),
                   truncated=bool(data.get("truncated")),
                   impacted=tuple(item(i) for i in data.get("impacted", [])),
                   services=tuple(item(s) for s in data.get("services", [])))


@dataclass(frozen=True)
class ChangeEvent:
    """Who moved the change, when, from which state to which, and why."""

    at: datetime
    actor: str
    channel: str
    from_state: str | None
    to_state: str
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "actor": self.actor, "channel": self.channel,
                "from": self.from_state, "to": self.to_state, "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeEvent:
        return cls(at=datetime.fromisoformat(data["at"]), actor=str(data["actor"]),
                   channel=str(data.get("channel", "api")), from_state=data.get("from"),
                   to_state=str(data["to"]), reason=data.get("reason"))


@dataclass(frozen=True)
class Change:
    """A change over some CIs in a window: its state, its impact as planned, its moves."""

    id: str
    state: str
    title: str
    description: str
    requester: str
    responsible: str
    window_start: datetime
    window_end: datetime
    ci_ids: tuple[str, ...]
    impact: ChangeImpact
    events: tuple[ChangeEvent, ...]
    version: int
    created_at: datetime
    updated_at: datetime

    def touched(self) -> set[str]:
        """Every CI the planned impact reaches: the change's CIs and the impacted."""
        return {*self.ci_ids, *(i.ci_id for i in self.impact.impacted)}

    def to_doc(self) -> Doc:
        return Doc(kind=KIND, id=self.id, key=self.state, data={
            "title": self.title, "description": self.description,
            "requester": self.requester, "responsible": self.responsible,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(), "ci_ids": list(self.ci_ids),
            "impact": self.impact.to_json(), "events": [e.to_json() for e in self.events],
        }, version=self.version, created_at=self.created_at, updated_at=self.updated_at)

    @classmethod
    def from_doc(cls, doc: Doc) -> Change:
        data = doc.data
        return cls(
            id=doc.id, state=doc.key or DRAFT, title=str(data["title"]),
            description=str(data.get("description", "")),
            requester=str(data.get("requester", "")),
            responsible=str(data.get("responsible", "")),
            window_start=datetime.fromisoformat(data["window_start"]),
            window_end=datetime.fromisoformat(data["window_end"]),
            ci_ids=tuple(data.get("ci_ids", [])),
            impact=ChangeImpact.from_json(data["impact"]),
            events=tuple(ChangeEvent.from_json(e) for e in data.get("events", [])),
            version=doc.version, created_at=doc.created_at, updated_at=doc.updated_at)


async def read_changes(reader: DocReader, ids: Sequence[str]) -> dict[str, Change]:
    """The changes with these ids (those that exist), by id."""
    found = await reader.get_docs(KIND, ids)
    return {i: Change.from_doc(d) for i, d in found.items()}


async def find_changes(store: Store, state: str | None, first: int,
                       after: str | None) -> tuple[list[Change], bool]:
    """A page of changes (only those in ``state`` when given), newest first; and whether
    more follow."""
    page = await store.find_docs(KIND, key=state, first=first, after=after)
    return [Change.from_doc(d) for d in page.items], page.has_next


async def add_change(tx: StoreTx, change: Change) -> None:
    await tx.put_docs([change.to_doc()])


async def replace_change(tx: StoreTx, change: Change, expected_version: int) -> None:
    """Write ``change`` over the stored one if that is still ``expected_version``."""
    await tx.update_doc(change.to_doc(), expected_version)
