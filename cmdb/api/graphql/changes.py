"""GraphQL for change records: plan, read, move, and see conflicts."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from cmdb.api.graphql.cis_types import CIType, PageInfoType, page_info
from cmdb.api.graphql.context import Context
from cmdb.api.graphql.impact import ImpactStatusEnum
from cmdb.services.changes.records import Change, ChangeImpact, ImpactItem
from cmdb.services.changes.service import ChangeInput


@strawberry.type(name="ChangeImpactItem")
class ChangeImpactItemType:
    item: strawberry.Private[ImpactItem]

    @strawberry.field
    async def ci(self, info: Info[Context, None]) -> CIType | None:
        found = await info.context.ci_loader.load(self.item.ci_id)
        return CIType(ci=found) if found else None

    @strawberry.field
    def status(self) -> ImpactStatusEnum:
        return ImpactStatusEnum(self.item.status)

    @strawberry.field
    def depth(self) -> int | None:
        return self.item.depth

    @strawberry.field(description="The CI the failure reached this one from, as planned: "
                      "the impacted CIs make a tree back to the change's CIs.")
    def reached_from_id(self) -> strawberry.ID | None:
        near = self.item.reached_from
        return strawberry.ID(near) if near else None

    @strawberry.field(description="The type of the relationship between this CI and "
                      "`reachedFromId`.")
    def relationship_type(self) -> str | None:
        return self.item.via


@strawberry.type(name="ChangeImpact", description="The impact as computed when planned.")
class ChangeImpactType:
    impact: strawberry.Private[ChangeImpact]

    @strawberry.field
    def computed_at(self) -> datetime:
        return self.impact.computed_at

    @strawberry.field
    def truncated(self) -> bool:
        return self.impact.truncated

    @strawberry.field
    def impacted(self) -> list[ChangeImpactItemType]:
        return [ChangeImpactItemType(item=i) for i in self.impact.impacted]

    @strawberry.field
    def services(self) -> list[ChangeImpactItemType]:
        return [ChangeImpactItemType(item=i) for i in self.impact.services]


@strawberry.type(name="ChangeEvent", description="Who moved the change, when, and why.")
class ChangeEventType:
    at: datetime
    actor: str
    channel: str
    from_state: str | None = strawberry.field(name="from")
    to_state: str = strawberry.field(name="to")
    reason: str | None


@strawberry.type(name="Change")
class ChangeType:
    change: strawberry.Private[Change]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.change.id)

    @strawberry.field
    def title(self) -> str:
        return self.change.title

    @strawberry.field
    def description(self) -> str:
        return self.change.description

    @strawberry.field
    def requester(self) -> str:
        return self.change.requester

    @strawberry.field
    def responsible(self) -> str:
        return self.change.responsible

    @strawberry.field
    def window_start(self) -> datetime:
        return self.change.window_start

    @strawberry.field
    def window_end(self) -> datetime:
        return self.change.window_end

    @strawberry.field(description="draft, approved, implemented, closed or cancelled.")
    def state(self) -> str:
        return self.change.state

    @strawberry.field
    def version(self) -> int:
        return self.change.version

    @strawberry.field
    async def cis(self, info: Info[Context, None]) -> list[CIType]:
        found = await info.context.ci_loader.load_many(list(self.change.ci_ids))
        return [CIType(ci=c) for c in found if c is not None]

    @strawberry.field
    def impact(self) -> ChangeImpactType:
        return ChangeImpactType(impact=self.change.impact)

    @strawberry.field(description="Open changes with overlapping windows and meeting impacts.")
    async def conflicts(self, info: Info[Context, None]) -> list[ChangeType]:
        return [ChangeType(change=c)
                for c in await info.context.cmdb.changes.conflicts(self.change)]

    @strawberry.field
    def history(self) -> list[ChangeEventType]:
        return [ChangeEventType(at=e.at, actor=e.actor, channel=e.channel,
                                from_state=e.from_state, to_state=e.to_state, reason=e.reason)
                for e in self.change.events]


@strawberry.type(name="ChangeConnection")
class ChangeConnectionType:
    nodes: list[ChangeType]
    page_info: PageInfoType


LOCAL_TIME = ("ISO 8601; without an offset (2026-07-10T22:00:00) it is local time in the "
              "CMDB's time zone (CMDB_TIME_ZONE)")


@strawberry.input(name="PlanChangeInput")
class PlanChangeInput:
    title: str
    description: str = ""
    requester: str = ""
    responsible: str = ""
    window_start: datetime = strawberry.field(description=LOCAL_TIME)
    window_end: datetime = strawberry.field(description=LOCAL_TIME)
    ci_ids: list[strawberry.ID]


@strawberry.input(name="ChangeFilter")
class ChangeFilterInput:
    state: str | None = None


@strawberry.type
class ChangeQuery:
    """Change records."""

    @strawberry.field
    async def change(self, info: Info[Context, None], id: strawberry.ID) -> ChangeType | None:
        found = await info.context.cmdb.changes.find_one(str(id))
        return ChangeType(change=found) if found else None

    @strawberry.field(description="Changes, newest first.")
    async def changes(
        self, info: Info[Context, None], filter: ChangeFilterInput | None = None,
        first: int = 50, after: str | None = None,
    ) -> ChangeConnectionType:
        changes, has_next = await info.context.cmdb.changes.find(
            filter.state if filter else None, first, after)
        return ChangeConnectionType(
            nodes=[ChangeType(change=c) for c in changes],
            page_info=page_info([c.id for c in changes], has_next, after is not None))


@strawberry.type
class ChangeMutation:
    """Plan and move changes."""

    @strawberry.mutation(description="Plan a change; its impact is computed and kept.")
    async def plan_change(self, info: Info[Context, None], input: PlanChangeInput) -> ChangeType:
        change = await info.context.cmdb.changes.plan(info.context.actor, ChangeInput(
            title=input.title, description=input.description, requester=input.requester,
            responsible=input.responsible, window_start=input.window_start,
            window_end=input.window_end, ci_ids=[str(i) for i in input.ci_ids]))
        return ChangeType(change=change)

    @strawberry.mutation(
        description="draft -> approved -> implemented -> closed; or cancelled.")
    async def transition_change(
        self, info: Info[Context, None], id: strawberry.ID, to: str, reason: str | None = None
    ) -> ChangeType:
        change = await info.context.cmdb.changes.transition(info.context.actor, str(id), to,
                                                            reason)
        return ChangeType(change=change)

    @strawberry.mutation(description="Compute a change's impact again on today's data.")
    async def recompute_change_impact(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ChangeType:
        change = await info.context.cmdb.changes.recompute(info.context.actor, str(id))
        return ChangeType(change=change)
