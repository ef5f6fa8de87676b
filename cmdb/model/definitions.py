"""The file formats of ``schema/``: CI classes, relationship types, lifecycle.

These pydantic models describe what a user may write in the YAML files. They
forbid unknown keys, so a typo in a definition fails loudly instead of being
ignored.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TYPE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
STATE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# Fields every CI has; an attribute may not reuse these names.
CORE_FIELDS = frozenset(
    {"id", "class", "class_name", "name", "state", "asset_tag", "serial_number", "version",
     "created_at", "updated_at", "attributes", "provenance"}
)


class Strict(BaseModel):
    """Base for every definition: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Labels(Strict):
    """Display names of a thing, per language."""

    en: str
    zh_cn: str | None = Field(default=None, alias="zh-CN")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def get(self, language: str) -> str:
        """The name in ``language`` (``en`` or ``zh-CN``), English when missing."""
        if language.lower().startswith("zh") and self.zh_cn:
            return self.zh_cn
        return self.en


class AttributeType(StrEnum):
    """The value types an attribute can declare."""

    STRING = "string"
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ENUM = "enum"
    MAC = "mac"
    IP = "ip"
    HOSTNAME = "hostname"
    URL = "url"
    EMAIL = "email"


class AttributeDef(Strict):
    """One attribute a class declares."""

    type: AttributeType
    label: Labels | None = None
    required: bool = False
    unique: bool = False
    list: bool = False
    values: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = Field(default=None, gt=0)
    system: bool = False
    """Kept by the CMDB itself (an audit, a label print, a discovery source sets it):
    refused from callers (createCI, updateCI, the pages) and from sheet imports."""

    @model_validator(mode="after")
    def _enum_has_values(self) -> AttributeDef:
        if self.type is AttributeType.ENUM and not self.values:
            raise ValueError("an enum attribute needs a non-empty `values` list")
        if self.type is not AttributeType.ENUM and self.values is not None:
            raise ValueError("`values` is only allowed on enum attributes")
        if self.unique and self.list:
            raise ValueError("a list attribute cannot be unique")
        return self


class ClassDef(Strict):
    """One CI class: its parent, names and own attributes."""

    parent: str | None = None
    abstract: bool = False
    label: Labels
    aliases: tuple[str, ...] = ()
    attributes: dict[str, AttributeDef] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, AttributeDef]) -> dict[str, AttributeDef]:
        for name in value:
            if not ATTRIBUTE_NAME.match(name):
                raise ValueError(f"attribute name {name!r} must be lower_snake_case")
            if name in CORE_FIELDS:
                raise ValueError(f"attribute name {name!r} is a core field of every CI")
        return value


class ClassesFile(Strict):
    """``schema/classes.yaml``."""

    version: Literal[1]
    classes: dict[str, ClassDef]


class Propagation(StrEnum):
    """Which way a failure travels along a relationship ``A -[T]-> B``."""

    TARGET_TO_SOURCE = "target_to_source"
    SOURCE_TO_TARGET = "source_to_target"
    REDUNDANCY = "redundancy"
    NONE = "none"


class Role(StrEnum):
    """What the CMDB itself does with a relationship type (``role:`` in
    ``relationships.yaml``): the code asks for the type by its role, never by its name."""

    LOCATION = "location"
    """Where a CI is: the CI's place, the place tree, audits' scopes (one type, required)."""
    OWNER = "owner"
    """Who owns a CI: its owner field, label owners, impact notices (one type, required)."""
    MANAGER = "manager"
    """Who looks after a CI: impact notices go to them as well as to the owner."""
    INSTALLED_ON = "installed_on"
    """A software installation to the device it is on (software imports; required)."""
    INSTANCE_OF = "instance_of"
    """A software installation to its product (software imports; required)."""
    RUNS_ON = "runs_on"
    """Software or a cluster to what it runs on."""
    MEMBER_OF = "member_of"
    """A member to its redundant group."""


#: The roles a schema must give to exactly one relationship type.
REQUIRED_ROLES = (Role.LOCATION, Role.OWNER, Role.INSTALLED_ON, Role.INSTANCE_OF)


class RelationshipTypeDef(Strict):
    """One relationship type: allowed ends and failure propagation."""

    label: Labels
    aliases: tuple[str, ...] = ()
    from_: tuple[str, ...] = Field(alias="from", min_length=1)
    to: tuple[str, ...] = Field(min_length=1)
    propagation: Propagation
    single: bool = False
    role: Role | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RelationshipsFile(Strict):
    """``schema/relationships.yaml``."""

    version: Literal[1]
    types: dict[str, RelationshipTypeDef]


class Tone(StrEnum):
    """How the pages colour a state's badge."""

    OK = "ok"
    INFO = "info"
    WARN = "warn"
    BAD = "bad"
    MUTED = "muted"
    NEUTRAL = "neutral"


class StateDef(Strict):
    """One lifecycle state with its display names, import aliases and meaning: the
    flags say what the CMDB does with a CI in it (the code asks for states by flag,
    never by name; the README, "The model as data" lists them)."""

    label: Labels
    aliases: tuple[str, ...] = ()
    terminal: bool = False
    """The end of a CI's life: it cannot change or be related, its relationships end,
    imports, audits and health checks pass it by. The first one declared is where
    disposing of a CI moves it (at least one state)."""
    in_use: bool = False
    """In service: imports create places, people and software here (one state)."""
    in_stock: bool = False
    """On the shelf: an audit registers an unknown device it found here (one state)."""
    retired: bool = False
    """Out of service, on its way to disposal: vanished software goes here (one state)."""
    missing: bool = False
    """Whereabouts unknown (lost, stolen); the first one declared is what an audit marks
    an asset nobody found (at least one state)."""
    audited: bool = True
    """An audit expects to find a CI in this state at its place."""
    tone: Tone = Tone.NEUTRAL
    """The colour of the state's badge on the pages."""


#: The flags of a state that say what it means (``states_where`` takes these).
STATE_FLAGS = ("terminal", "in_use", "in_stock", "retired", "missing", "audited")
#: Flags exactly one state carries; flags at least one state carries.
ONE_STATE_FLAGS = ("in_use", "in_stock", "retired")
SOME_STATE_FLAGS = ("terminal", "missing")


class LifecycleFile(Strict):
    """``schema/lifecycle.yaml``."""

    version: Literal[1]
    initial: str
    states: dict[str, StateDef]
    transitions: dict[str, tuple[str, ...]]
    from_any: tuple[str, ...] = ()
