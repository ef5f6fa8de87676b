"""Change records: plan a change over some CIs in a window, keep the impact computed
when it was planned, move it through draft -> approved -> implemented -> closed
(or cancelled), and find the other changes it conflicts with.

Two changes conflict when neither is closed or cancelled, their windows overlap,
and their impacts (the changed CIs, what they take down, the services) meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmdb.errors import InvalidTransitionError, LimitExceededError, NotFoundError, ValidationError
from cmdb.model.clock import Clock
from cmdb.model.records import Actor, Doc, now
from cmdb.model.text import DESCRIPTION, NAME, REASON, SHORT, check_text
from cmdb.services.impact.service import ImpactKind, ImpactService
from cmdb.store.base import Store, StoreTx

KIND = "change"
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("approved", "cancelled"),
    "approved": ("implemented", "draft", "cancelled"),
    "implemented": ("closed",),
    "closed": (),
    "cancelled": (),
}
OPEN_STATES = ("draft", "approved", "implemented")
MAX_CIS = 100


@dataclass
class ChangeInput:
    title: str
    description: str
    requester: str
    responsible: str
    window_start: datetime
    window_end: datetime
    ci_ids: list[str]


def touched(doc: Doc) -> set[str]:
    """Every CI a change's planned impact reaches: its CIs, the impacted, the services."""
    impact = doc.data.get("impact", {})
    return {*doc.data.get("ci_ids", []), *(i["id"] for i in impact.get("impacted", []))}


def window(doc: Doc) -> tuple[datetime, datetime]:
    return (datetime.fromisoformat(doc.data["window_start"]),
            datetime.fromisoformat(doc.data["window_end"]))


class ChangeService:
    """Plan, read, move and compare change records."""

    def __init__(self, store: Store, impact: ImpactService, clock: Clock | None = None) -> None:
        self.store = store
        self.impact = impact
        #: A window written without an offset is in this clock's zone.
        self.clock = clock or Clock()

    async def _snapshot(self, ci_ids: list[str]) -> dict[str, Any]:
        report = await self.impact.impact(ci_ids, ImpactKind.MAINTENANCE)
        return {
            "computed_at": now().isoformat(), "truncated": report.truncated,
            # with the CI each was reached from and the relationship's type: the tree
            # of how the failure travels, kept as planned
            "impacted": [{"id": i.ci.id, "status": i.status.name, "depth": i.depth,
                          "from": i.reached_from, "via": i.path[-1].type if i.path else None}
                         for i in report.impacted],
            "services": [{"id": s.ci.id, "status": s.status.name} for s in report.services],
        }

    async def plan(self, actor: Actor, data: ChangeInput) -> Doc:
        """Record a draft change with its impact as computed now."""
        title = data.title.strip()
        if not title or len(title) > NAME:
            raise ValidationError(f"title: give a title of 1 to {NAME} characters",
                                  field="title")
        check_text(title, "title", NAME, single_line=True)
        check_text(data.description, "description", DESCRIPTION)
        check_text(data.requester, "requester", SHORT, single_line=True)
        check_text(data.responsible, "responsible", SHORT, single_line=True)
        start, end = self.clock.utc(data.window_start), self.clock.utc(data.window_end)
        if end <= start:
            raise ValidationError("windowEnd must be after windowStart", field="windowEnd")
        if not data.ci_ids:
            raise ValidationError("ciIds: a change concerns at least one CI", field="ciIds")
        if len(data.ci_ids) > MAX_CIS:
            raise LimitExceededError(f"at most {MAX_CIS} CIs per change", field="ciIds")
        ids = list(dict.fromkeys(data.ci_ids))
        impact = await self._snapshot(ids)  # raises NOT_FOUND for an unknown CI
        stamp = now()
        doc = Doc(kind=KIND, key="draft", data={
            "title": title, "description": data.description, "requester": data.requester,
            "responsible": data.responsible, "window_start": start.isoformat(),
            "window_end": end.isoformat(), "ci_ids": ids, "impact": impact,
            "events": [{"at": stamp.isoformat(), "actor": actor.name, "channel":
                        actor.channel.value, "from": None, "to": "draft", "reason": "planned"}],
        }, created_at=stamp, updated_at=stamp)

        async def work(tx: StoreTx) -> None:
            await tx.put_docs([doc])

        await self.store.write(work)
        return doc

    async def get(self, change_id: str) -> Doc:
        doc = (await self.store.get_docs(KIND, [change_id])).get(change_id)
        if doc is None:
            raise NotFoundError(f"no change with id {change_id!r}", id=change_id)
        return doc

    async def find(self, state: str | None = None, first: int = 50,
                   after: str | None = None) -> tuple[list[Doc], bool]:
        if state is not None and state not in TRANSITIONS:
            raise ValidationError(f"unknown change state {state!r}; states: "
                                  + ", ".join(TRANSITIONS), field="state")
        if not 0 <= first <= 500:
            raise LimitExceededError("first must be between 0 and 500", field="first")
        page = await self.store.find_docs(KIND, key=state, first=first, after=after)
        return page.items, page.has_next

    async def _update(self, actor: Actor, change_id: str, to: str | None, reason: str | None,
                      refresh: dict[str, Any] | None = None) -> Doc:
        async def work(tx: StoreTx) -> Doc:
            doc = (await tx.get_docs(KIND, [change_id])).get(change_id)
            if doc is None:
                raise NotFoundError(f"no change with id {change_id!r}", id=change_id)
            state = doc.key or "draft"
            data = dict(doc.data)
            if to is not None:
                allowed = TRANSITIONS.get(state, ())
                if to not in allowed:
                    raise InvalidTransitionError(
                        f"a {state} change cannot become {to}; allowed: "
                        f"{', '.join(allowed) or 'none (final state)'}",
                        current=state, target=to, allowed=list(allowed))
                state = to
            if refresh is not None:
                data["impact"] = refresh
            stamp = now()
            data["events"] = [*data.get("events", []), {
                "at": stamp.isoformat(), "actor": actor.name, "channel": actor.channel.value,
                "from": doc.key, "to": state, "reason": reason or (
                    "impact recomputed" if refresh is not None else None)}]
            new = doc.model_copy(update={"key": state, "data": data, "version": doc.version + 1,
                                         "updated_at": stamp})
            await tx.update_doc(new, doc.version)
            return new

        return await self.store.write(work)

    async def transition(self, actor: Actor, change_id: str, to: str,
                         reason: str | None = None) -> Doc:
        """Move a change along its lifecycle; the error lists the allowed moves."""
        check_text(reason, "reason", REASON)
        return await self._update(actor, change_id, to, reason)

    async def recompute(self, actor: Actor, change_id: str) -> Doc:
        """Compute the change's impact again, on today's data."""
        doc = await self.get(change_id)
        return await self._update(actor, change_id, None, None,
                                  await self._snapshot(doc.data["ci_ids"]))

    async def conflicts(self, doc: Doc) -> list[Doc]:
        """Open changes whose windows overlap this one's and whose impacts meet."""
        if doc.key not in OPEN_STATES:
            return []
        start, end = window(doc)
        mine = touched(doc)
        out: list[Doc] = []
        for state in OPEN_STATES:
            page = await self.store.find_docs(KIND, key=state, first=1000)
            for other in page.items:
                if other.id == doc.id:
                    continue
                o_start, o_end = window(other)
                if o_start < end and start < o_end and mine & touched(other):
                    out.append(other)
        return sorted(out, key=lambda d: d.data["window_start"])
