"""Write-side GraphQL for CIs and relationships."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from cmdb.api.graphql.cis_inputs import CreateCIInput, UpdateCIInput
from cmdb.api.graphql.cis_types import CIType, RelationshipType
from cmdb.api.graphql.context import Context
from cmdb.errors import ValidationError


def _object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"{field} must be a JSON object", field=field)
    return value


@strawberry.type
class CIMutation:
    """Create, change, move through the lifecycle, relate and dispose of CIs."""

    @strawberry.mutation(name="createCI", description="Register a new CI.")
    async def create_ci(self, info: Info[Context, None], input: CreateCIInput) -> CIType:
        ctx = info.context
        ci = await ctx.cmdb.cis.create(ctx.actor, {
            "class_name": input.class_, "name": input.name, "state": input.state,
            "asset_tag": input.asset_tag, "serial_number": input.serial_number,
            "attributes": _object(input.attributes, "attributes"),
            "location_id": input.location_id, "owner_id": input.owner_id,
        })
        return CIType(ci=ci)

    @strawberry.mutation(
        name="updateCI",
        description="Change a CI. expectedVersion is the version you read; a stale one is "
        "refused with VERSION_CONFLICT.",
    )
    async def update_ci(
        self, info: Info[Context, None], id: strawberry.ID, expected_version: int,
        input: UpdateCIInput, reason: str | None = None,
    ) -> CIType:
        changes: dict[str, Any] = {}
        for key in ("name", "asset_tag", "serial_number", "location_id", "owner_id"):
            value = getattr(input, key)
            if value is not strawberry.UNSET:
                changes[key] = value
        if input.attributes is not strawberry.UNSET:
            changes["attributes"] = _object(input.attributes, "attributes")
        ci = await info.context.cmdb.cis.update(
            info.context.actor, str(id), expected_version, changes, reason
        )
        return CIType(ci=ci)

    @strawberry.mutation(
        name="transitionCI",
        description="Move a CI to another lifecycle state; the error lists the allowed ones.",
    )
    async def transition_ci(
        self, info: Info[Context, None], id: strawberry.ID, to: str, reason: str | None = None,
        expected_version: int | None = None,
    ) -> CIType:
        ci = await info.context.cmdb.cis.transition(
            info.context.actor, str(id), to, reason, expected_version
        )
        return CIType(ci=ci)

    @strawberry.mutation(
        name="disposeCI",
        description="Dispose of a CI: it stays queryable; its relationships end.",
    )
    async def dispose_ci(
        self, info: Info[Context, None], id: strawberry.ID, reason: str | None = None,
        expected_version: int | None = None,
    ) -> CIType:
        ci = await info.context.cmdb.cis.dispose(
            info.context.actor, str(id), reason, expected_version
        )
        return CIType(ci=ci)

    @strawberry.mutation(description="Create the relationship `from` TYPE `to`.")
    async def relate(
        self, info: Info[Context, None],
        source: Annotated[strawberry.ID, strawberry.argument(name="from")],
        type: str,
        target: Annotated[strawberry.ID, strawberry.argument(name="to")],
        attributes: JSON | None = None,
    ) -> RelationshipType:
        rel = await info.context.cmdb.cis.relate(
            info.context.actor, str(source), type, str(target),
            _object(attributes, "attributes"),
        )
        return RelationshipType(rel=rel)

    @strawberry.mutation(description="End a relationship (it stays in history).")
    async def unrelate(
        self, info: Info[Context, None], id: strawberry.ID, reason: str | None = None
    ) -> RelationshipType:
        rel = await info.context.cmdb.cis.unrelate(info.context.actor, str(id), reason)
        return RelationshipType(rel=rel)
