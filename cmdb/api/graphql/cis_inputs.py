"""GraphQL input types and enums."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON


@strawberry.input(name="CIFilter", description="Narrow a CI list; all given parts must match.")
class CIFilterInput:
    class_: str | None = strawberry.field(
        default=None, name="class", description="A class name; its subclasses match too."
    )
    classes: list[str] | None = strawberry.field(default=None, description="Any of these classes.")
    states: list[str] | None = None
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="CIs located in this place or anywhere below it."
    )
    owner_id: strawberry.ID | None = None
    text: str | None = strawberry.field(
        default=None, description="Part of the name, asset tag or serial number."
    )
    attributes: JSON | None = strawberry.field(
        default=None, description='Attribute values, e.g. {"manufacturer": "Dell"}.'
    )
    ids: list[strawberry.ID] | None = None
    search: str | None = strawberry.field(
        default=None,
        description="The query box: an IP address or a MAC (any notation) matches exactly;"
        " other text is part of the name, asset tag, serial number, a host name or the FQDN.",
    )


@strawberry.enum(name="CIOrderField")
class CIOrderFieldEnum(Enum):
    NAME = "name"
    ASSET_TAG = "asset_tag"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.enum(name="OrderDirection")
class OrderDirectionEnum(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum(name="LabelFormat", description="The file format of one asset label.")
class LabelFormatEnum(Enum):
    PNG = "png"
    SVG = "svg"
    ZPL = "zpl"


@strawberry.input(name="CIOrder")
class CIOrderInput:
    field: CIOrderFieldEnum = CIOrderFieldEnum.NAME
    direction: OrderDirectionEnum = OrderDirectionEnum.ASC


@strawberry.input(name="CreateCIInput")
class CreateCIInput:
    class_: str = strawberry.field(name="class", description="A concrete class, e.g. Server.")
    name: str
    state: str | None = strawberry.field(
        default=None, description="Initial lifecycle state; the lifecycle's initial one if omitted."
    )
    asset_tag: str | None = None
    serial_number: str | None = None
    attributes: JSON | None = None
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="Creates the LOCATED_IN relationship."
    )
    owner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Creates the OWNED_BY relationship."
    )


@strawberry.input(
    name="UpdateCIInput",
    description="Only the fields you send change; null clears a field. "
    "Attributes merge into the existing ones (null removes one).",
)
class UpdateCIInput:
    name: str | None = strawberry.UNSET
    asset_tag: str | None = strawberry.UNSET
    serial_number: str | None = strawberry.UNSET
    attributes: JSON | None = strawberry.UNSET
    location_id: strawberry.ID | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
