"""GraphQL object types: CIs, relationships, history, and their connections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from cmdb.api.graphql.cis_inputs import LabelFormatEnum
from cmdb.api.graphql.context import Context
from cmdb.errors import LimitExceededError
from cmdb.model.queries import Window
from cmdb.model.records import CI, HistoryEntry, Relationship
from cmdb.services.labels.service import asset_page_url, label_url

MAX_NESTED_PAGE = 500


def _ctx(info: Info[Context, None]) -> Context:
    return info.context


@strawberry.type(name="PageInfo")
class PageInfoType:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


def page_info(cursors: Sequence[str], has_next: bool, has_previous: bool) -> PageInfoType:
    """The page info of a page whose items have these cursors, in order."""
    return PageInfoType(has_next_page=has_next, has_previous_page=has_previous,
                        start_cursor=cursors[0] if cursors else None,
                        end_cursor=cursors[-1] if cursors else None)


@strawberry.type(name="FieldChange", description="One field before and after a change.")
class FieldChangeType:
    field: str
    before: JSON | None
    after: JSON | None


@strawberry.type(name="HistoryEntry", description="One recorded change to a CI or relationship.")
class HistoryEntryType:
    entry: strawberry.Private[HistoryEntry]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.entry.id)

    @strawberry.field
    def at(self) -> datetime:
        return self.entry.at

    @strawberry.field(description="Who made the change (user or token name).")
    def actor(self) -> str:
        return self.entry.actor

    @strawberry.field(description="api, cli, import, audit, demo, restore or system.")
    def channel(self) -> str:
        return self.entry.channel.value

    @strawberry.field(description="The import run that made the change, if any.")
    def run_id(self) -> str | None:
        return self.entry.run_id

    @strawberry.field(description="created, updated, transitioned, disposed, related, unrelated.")
    def action(self) -> str:
        return self.entry.action.value

    @strawberry.field(description="ci or relationship.")
    def entity_kind(self) -> str:
        return self.entry.entity_kind.value

    @strawberry.field
    def entity_id(self) -> strawberry.ID:
        return strawberry.ID(self.entry.entity_id)

    @strawberry.field
    def reason(self) -> str | None:
        return self.entry.reason

    @strawberry.field(description="The record's version after the change.")
    def version(self) -> int | None:
        return self.entry.version

    @strawberry.field
    def changes(self) -> list[FieldChangeType]:
        return [FieldChangeType(field=c.field, before=c.before, after=c.after)
                for c in self.entry.changes]

    @strawberry.field(description="The CI the change concerns (the source, for a relationship).")
    async def ci(self, info: Info[Context, None]) -> CIType | None:
        found = await _ctx(info).ci_loader.load(self.entry.ci_id)
        return CIType(ci=found) if found else None


@strawberry.type(name="HistoryConnection")
class HistoryConnectionType:
    nodes: list[HistoryEntryType]
    page_info: PageInfoType


@strawberry.type(name="Relationship", description="A typed, directed link: `from` TYPE `to`.")
class RelationshipType:
    rel: strawberry.Private[Relationship]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.rel.id)

    @strawberry.field(description="The relationship type, e.g. RUNS_ON.")
    def type(self) -> str:
        return self.rel.type

    @strawberry.field(name="from")
    async def source(self, info: Info[Context, None]) -> CIType | None:
        found = await _ctx(info).ci_loader.load(self.rel.source_id)
        return CIType(ci=found) if found else None

    @strawberry.field(name="to")
    async def target(self, info: Info[Context, None]) -> CIType | None:
        found = await _ctx(info).ci_loader.load(self.rel.target_id)
        return CIType(ci=found) if found else None

    @strawberry.field
    def attributes(self) -> JSON:
        return JSON(self.rel.attributes)

    @strawberry.field
    def version(self) -> int:
        return self.rel.version

    @strawberry.field
    def created_at(self) -> datetime:
        return self.rel.created_at

    @strawberry.field(description="When the relationship was ended; null while active.")
    def ended_at(self) -> datetime | None:
        return self.rel.ended_at


@strawberry.type(name="RelationshipEdge")
class RelationshipEdgeType:
    cursor: str
    node: RelationshipType


@strawberry.type(name="RelationshipConnection")
class RelationshipConnectionType:
    edges: list[RelationshipEdgeType]
    page_info: PageInfoType
    total_count: int


def check_page_size(first: int) -> None:
    if first < 0 or first > MAX_NESTED_PAGE:
        raise LimitExceededError(f"first must be between 0 and {MAX_NESTED_PAGE}", field="first")


def relationship_page(page: Window[Relationship]) -> RelationshipConnectionType:
    """A CI's relationships, one page of them, as a connection."""
    return RelationshipConnectionType(
        edges=[RelationshipEdgeType(cursor=r.id, node=RelationshipType(rel=r))
               for r in page.items],
        page_info=page_info([r.id for r in page.items], page.has_next, page.start > 0),
        total_count=page.total,
    )


@strawberry.type(name="CI", description="A configuration item.")
class CIType:
    # The plain values are copied when the type is made, so reading them costs no
    # resolver call (a list of a thousand CIs reads thousands of these).
    ci: strawberry.Private[CI]
    id: strawberry.ID = strawberry.field(default=strawberry.ID(""), description="Stable id.")
    class_: str = strawberry.field(default="", name="class",
                                   description="The CI class, e.g. Server (see ciClasses).")
    name: str = ""
    state: str = strawberry.field(default="",
                                  description="Lifecycle state, e.g. deployed (see lifecycle).")
    asset_tag: str | None = None
    serial_number: str | None = None
    version: int = strawberry.field(
        default=0, description="Increases with every change; send it back as expectedVersion.")
    created_at: datetime = strawberry.field(default=datetime.min)
    updated_at: datetime = strawberry.field(default=datetime.min)

    def __post_init__(self) -> None:
        ci = self.ci
        self.id, self.class_, self.name, self.state = (
            strawberry.ID(ci.id), ci.class_name, ci.name, ci.state)
        self.asset_tag, self.serial_number, self.version = (
            ci.asset_tag, ci.serial_number, ci.version)
        self.created_at, self.updated_at = ci.created_at, ci.updated_at

    @strawberry.field(description="The state's display name in the given language (en, zh-CN).")
    def state_label(self, info: Info[Context, None], language: str | None = None) -> str:
        states = _ctx(info).cmdb.registry.lifecycle.states
        d = states.get(self.ci.state)
        return d.label.get(language or _ctx(info).language) if d else self.ci.state

    @strawberry.field(description="The class's declared attributes, as a JSON object.")
    def attributes(self) -> JSON:
        return JSON(self.ci.attributes)

    @strawberry.field(description="Per attribute: which source set it, when, in which run; "
                      "observed: what the source wrote, where the CMDB keeps another form "
                      "(a manufacturer \"Dell Inc.\" kept as Dell).")
    def provenance(self) -> JSON:
        return JSON({k: v.model_dump(mode="json") for k, v in self.ci.provenance.items()})

    @strawberry.field(description="The page its label's QR opens; null without an asset tag.")
    def asset_page_url(self, info: Info[Context, None]) -> str | None:
        base = _ctx(info).cmdb.settings.public_base_url
        return asset_page_url(base, self.ci.asset_tag) if self.ci.asset_tag else None

    @strawberry.field(description="Its label as a file to download or print; null without "
                      "an asset tag.")
    def label_url(
        self, info: Info[Context, None], format: LabelFormatEnum = LabelFormatEnum.PNG
    ) -> str | None:
        base = _ctx(info).cmdb.settings.public_base_url
        return label_url(base, self.ci.asset_tag, format.value) if self.ci.asset_tag else None

    async def _single(self, info: Info[Context, None], rel_type: str) -> CIType | None:
        rels = await _ctx(info).outgoing_loader.load((self.ci.id, (rel_type,)))
        if not rels:
            return None
        found = await _ctx(info).ci_loader.load(rels[0].target_id)
        return CIType(ci=found) if found else None

    @strawberry.field(description="Where the CI is (its LOCATED_IN relationship).")
    async def location(self, info: Info[Context, None]) -> CIType | None:
        return await self._single(info, _ctx(info).cmdb.registry.location_type)

    @strawberry.field(description="Who owns the CI (its OWNED_BY relationship).")
    async def owner(self, info: Info[Context, None]) -> CIType | None:
        return await self._single(info, _ctx(info).cmdb.registry.owner_type)

    @strawberry.field(description="Active relationships from this CI (this CI is `from`).")
    async def outgoing(
        self, info: Info[Context, None], type: str | None = None, first: int = 50,
        after: str | None = None,
    ) -> RelationshipConnectionType:
        check_page_size(first)
        page = await _ctx(info).outgoing_pages.load(
            (self.ci.id, (type,) if type else None, first, after))
        return relationship_page(page)

    @strawberry.field(description="Active relationships to this CI (this CI is `to`).")
    async def incoming(
        self, info: Info[Context, None], type: str | None = None, first: int = 50,
        after: str | None = None,
    ) -> RelationshipConnectionType:
        check_page_size(first)
        page = await _ctx(info).incoming_pages.load(
            (self.ci.id, (type,) if type else None, first, after))
        return relationship_page(page)

    @strawberry.field(description="Changes to this CI and its relationships, newest first.")
    async def history(
        self, info: Info[Context, None], first: int = 20, after: str | None = None
    ) -> HistoryConnectionType:
        return await history_page(_ctx(info), first, after, ci_id=self.ci.id)


async def history_page(
    ctx: Context, first: int, after: str | None, **where: Any
) -> HistoryConnectionType:
    check_page_size(first)
    page = await ctx.cmdb.store.history(first=first, after=after, **where)
    nodes = [HistoryEntryType(entry=e) for e in page.items]
    return HistoryConnectionType(
        nodes=nodes,
        page_info=page_info([e.id for e in page.items], page.has_next, after is not None),
    )


@strawberry.type(name="CIEdge")
class CIEdgeType:
    cursor: str
    node: CIType
