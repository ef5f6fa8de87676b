"""Change records: plan a change over some CIs in a window, keep the impact computed
when it was planned, move it through draft -> approved -> implemented -> closed
(or cancelled), and find the other changes it conflicts with.

Two changes conflict when neither is closed or cancelled, their windows overlap,
and their impacts (the changed CIs, what they take down, the services) meet.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from cmdb.errors import InvalidTransitionError, LimitExceededError, NotFoundError, ValidationError
from cmdb.model.clock import Clock
from cmdb.model.records import Actor, new_id, now
from cmdb.model.text import DESCRIPTION, NAME, REASON, SHORT, check_text
from cmdb.services.changes.records import (
    DRAFT,
    Change,
    ChangeEvent,
    ChangeImpact,
    ImpactItem,
    add_change,
    find_changes,
    read_changes,
    replace_change,
)
from cmdb.services.impact.service import ImpactKind, ImpactService
from cmdb.store.base import Store, StoreTx

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


class ChangeService:
    """Plan, read, move and compare change records."""

    def __init__(self, store: Store, impact: ImpactService, clock: Clock | None = None) -> None:
        self.store = store
        self.impact = impact
        #: A window written without an offset is in this clock's zone.
        self.clock = clock or Clock()

    async def _snapshot(self, ci_ids: list[str]) -> ChangeImpact:
        report = await self.impact.impact(ci_ids, ImpactKind.MAINTENANCE)
        return ChangeImpact(
            computed_at=now(), truncated=report.truncated,
            # with the CI each was reached from and the relationship's type: the tree
            # of how the failure travels, kept as planned
            impacted=tuple(ImpactItem(i.ci.id, i.status.name, i.depth, i.reached_from,
                                      i.path[-1].type if i.path else None)
                           for i in report.impacted),
            services=tuple(ImpactItem(s.ci.id, s.status.name) for s in report.services))

    async def plan(self, actor: Actor, data: ChangeInput) -> Change:
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
        ids = tuple(dict.fromkeys(data.ci_ids))
        impact = await self._snapshot(list(ids))  # raises NOT_FOUND for an unknown CI
        stamp = now()
        change = Change(
            id=new_id(), state=DRAFT, title=title, description=data.description,
            requester=data.requester, responsible=data.responsible, window_start=start,
            window_end=end, ci_ids=ids, impact=impact,
            events=(ChangeEvent(at=stamp, actor=actor.name, channel=actor.channel.value,
                                from_state=None, to_state=DRAFT, reason="planned"),),
            version=1, created_at=stamp, updated_at=stamp)

        async def work(tx: StoreTx) -> None:
            await add_change(tx, change)

        await self.store.write(work)
        return change

    async def find_one(self, change_id: str) -> Change | None:
        """The change with this id, or ``None``."""
        return (await read_changes(self.store, [change_id])).get(change_id)

    async def get(self, change_id: str) -> Change:
        change = await self.find_one(change_id)
        if change is None:
            raise NotFoundError(f"no change with id {change_id!r}", id=change_id)
        return change

    async def find(self, state: str | None = None, first: int = 50,
                   after: str | None = None) -> tuple[list[Change], bool]:
        if state is not None and state not in TRANSITIONS:
            raise ValidationError(f"unknown change state {state!r}; states: "
                                  + ", ".join(TRANSITIONS), field="state")
        if not 0 <= first <= 500:
            raise LimitExceededError("first must be between 0 and 500", field="first")
        return await find_changes(self.store, state, first, after)

    async def _update(self, actor: Actor, change_id: str, to: str | None, reason: str | None,
                      refresh: ChangeImpact | None = None) -> Change:
        async def work(tx: StoreTx) -> Change:
            change = (await read_changes(tx, [change_id])).get(change_id)
            if change is None:
                raise NotFoundError(f"no change with id {change_id!r}", id=change_id)
            state = change.state
            if to is not None:
                allowed = TRANSITIONS.get(state, ())
                if to not in allowed:
                    raise InvalidTransitionError(
                        f"a {state} change cannot become {to}; allowed: "
                        f"{', '.join(allowed) or 'none (final state)'}",
                        current=state, target=to, allowed=list(allowed))
                state = to
            stamp = now()
            event = ChangeEvent(
                at=stamp, actor=actor.name, channel=actor.channel.value,
                from_state=change.state, to_state=state, reason=reason or (
                    "impact recomputed" if refresh is not None else None))
            new = dataclasses.replace(
                change, state=state, impact=refresh if refresh is not None else change.impact,
                events=(*change.events, event), version=change.version + 1,
                updated_at=stamp)
            await replace_change(tx, new, change.version)
            return new

        return await self.store.write(work)

    async def transition(self, actor: Actor, change_id: str, to: str,
                         reason: str | None = None) -> Change:
        """Move a change along its lifecycle; the error lists the allowed moves."""
        check_text(reason, "reason", REASON)
        return await self._update(actor, change_id, to, reason)

    async def recompute(self, actor: Actor, change_id: str) -> Change:
        """Compute the change's impact again, on today's data."""
        change = await self.get(change_id)
        return await self._update(actor, change_id, None, None,
                                  await self._snapshot(list(change.ci_ids)))

    async def conflicts(self, change: Change) -> list[Change]:
        """Open changes whose windows overlap this one's and whose impacts meet."""
        if change.state not in OPEN_STATES:
            return []
        start, end = change.window_start, change.window_end
        mine = change.touched()
        out: list[Change] = []
        for state in OPEN_STATES:
            others, _ = await find_changes(self.store, state, 1000, None)
            for other in others:
                if other.id == change.id:
                    continue
                if other.window_start < end and start < other.window_end \
                        and mine & other.touched():
                    out.append(other)
        return sorted(out, key=lambda c: c.window_start)
