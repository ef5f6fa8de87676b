"""Read-side GraphQL: CIs, lists, history, and the schema as data."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from cmdb.api.graphql.cis_inputs import CIFilterInput, CIOrderInput, OrderDirectionEnum
from cmdb.api.graphql.cis_types import (
    CIEdgeType,
    CIType,
    HistoryConnectionType,
    PageInfoType,
    RelationshipType,
    history_page,
)
from cmdb.api.graphql.context import Context
from cmdb.errors import ValidationError
from cmdb.model.queries import CIOrder, CIOrderField, CISelection
from cmdb.model.registry import describe
from cmdb.services.cis.inputs import CIFilterInput as FilterModel


@strawberry.type(name="CIConnection")
class CIConnectionType:
    edges: list[CIEdgeType]
    page_info: PageInfoType
    selection: strawberry.Private[CISelection]

    @strawberry.field(description="How many CIs match the filter (all pages).")
    async def total_count(self, info: Info[Context, None]) -> int:
        return await info.context.cmdb.store.count_cis(self.selection)


def filter_model(f: CIFilterInput | None) -> FilterModel | None:
    if f is None:
        return None
    attributes: Any = f.attributes
    if attributes is not None and not isinstance(attributes, dict):
        raise ValidationError("filter.attributes must be a JSON object", field="attributes")
    return FilterModel(
        class_name=f.class_, classes=f.classes, states=f.states,
        location_id=f.location_id, owner_id=f.owner_id, text=f.text, attributes=attributes,
        ids=[str(i) for i in f.ids] if f.ids is not None else None, search=f.search,
    )


@strawberry.type(name="AttributeDefinition")
class AttributeDefinitionType:
    name: str
    type: str
    label: str
    required: bool
    unique: bool
    is_list: bool = strawberry.field(name="list")
    values: list[str] | None


@strawberry.type(name="CIClass", description="A CI class declared in schema/classes.yaml.")
class CIClassType:
    name: str
    parent: str | None
    abstract: bool
    label: str
    aliases: list[str]
    attributes: list[AttributeDefinitionType]


@strawberry.type(name="RelationshipTypeDefinition")
class RelationshipTypeDefinitionType:
    name: str
    label: str
    from_classes: list[str]
    to_classes: list[str]
    propagation: str
    single: bool


@strawberry.type(name="LifecycleState")
class LifecycleStateType:
    name: str
    label: str
    allowed_transitions: list[str]


@strawberry.type
class CIQuery:
    """Configuration items: one, a filtered page, history."""

    @strawberry.field(description="One CI by id or by asset tag.")
    async def ci(
        self, info: Info[Context, None], id: strawberry.ID | None = None,
        asset_tag: str | None = None,
    ) -> CIType | None:
        found = await info.context.cmdb.queries.get(
            str(id) if id is not None else None, asset_tag
        )
        return CIType(ci=found) if found else None

    @strawberry.field(description="A page of CIs (Relay connection).")
    async def cis(
        self, info: Info[Context, None], filter: CIFilterInput | None = None, first: int = 50,
        after: str | None = None, order_by: CIOrderInput | None = None,
    ) -> CIConnectionType:
        order = CIOrder()
        if order_by is not None:
            order = CIOrder(CIOrderField(order_by.field.value),
                            order_by.direction is OrderDirectionEnum.DESC)
        page = await info.context.cmdb.queries.page(filter_model(filter), order, first, after)
        info.context.prime(page.items)
        edges = [CIEdgeType(cursor=c, node=CIType(ci=ci))
                 for ci, c in zip(page.items, page.cursors, strict=True)]
        return CIConnectionType(
            edges=edges,
            page_info=PageInfoType(
                has_next_page=page.has_next, has_previous_page=after is not None,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
            selection=page.query,
        )

    @strawberry.field(description="One relationship by id (ended ones too).")
    async def relationship(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> RelationshipType | None:
        found = await info.context.cmdb.store.get_relationships([str(id)])
        rel = found.get(str(id))
        return RelationshipType(rel=rel) if rel else None

    @strawberry.field(
        description="Changes, newest first: for a CI, by an actor, or by an import run."
    )
    async def history(
        self, info: Info[Context, None], ci_id: strawberry.ID | None = None,
        actor: str | None = None, run_id: str | None = None, first: int = 50,
        after: str | None = None,
    ) -> HistoryConnectionType:
        return await history_page(
            info.context, first, after, ci_id=str(ci_id) if ci_id else None, actor=actor,
            run_id=run_id,
        )


@strawberry.type
class SchemaQuery:
    """The model as data: classes, relationship types, lifecycle."""

    @strawberry.field(description="Every CI class with its attributes (inherited included).")
    def ci_classes(
        self, info: Info[Context, None], language: str | None = None
    ) -> list[CIClassType]:
        lang = language or info.context.language
        out = []
        for name, c in sorted(info.context.cmdb.registry.classes.items()):
            out.append(CIClassType(
                name=name, parent=c.definition.parent, abstract=c.abstract,
                label=c.definition.label.get(lang), aliases=list(c.definition.aliases),
                attributes=[
                    AttributeDefinitionType(
                        name=a, type=d.type.value, label=d.label.get(lang) if d.label else a,
                        required=d.required, unique=d.unique, is_list=d.list,
                        values=list(d.values) if d.values else None,
                    )
                    for a, d in c.attributes.items()
                ],
            ))
        return out

    @strawberry.field(description="Relationship types: allowed ends and failure propagation.")
    def relationship_types(
        self, info: Info[Context, None], language: str | None = None
    ) -> list[RelationshipTypeDefinitionType]:
        lang = language or info.context.language
        return [
            RelationshipTypeDefinitionType(
                name=n, label=d.label.get(lang), from_classes=list(d.from_),
                to_classes=list(d.to), propagation=d.propagation.value, single=d.single,
            )
            for n, d in sorted(info.context.cmdb.registry.relationship_types.items())
        ]

    @strawberry.field(description="Lifecycle states and the transitions allowed from each.")
    def lifecycle(
        self, info: Info[Context, None], language: str | None = None
    ) -> list[LifecycleStateType]:
        lang = language or info.context.language
        reg = info.context.cmdb.registry
        return [
            LifecycleStateType(name=n, label=d.label.get(lang),
                               allowed_transitions=reg.allowed_transitions(n))
            for n, d in reg.lifecycle.states.items()
        ]

    @strawberry.field(description="The raw schema summary, as JSON.")
    def schema_summary(self, info: Info[Context, None]) -> JSON:
        return JSON(describe(info.context.cmdb.registry))
