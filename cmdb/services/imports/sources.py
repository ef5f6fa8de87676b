"""What each import source may do to the register: ``schema/sources.yaml`` as data.

The file declares the identification rules in order, per source whether it may
register new CIs, which fields it is authoritative for and with which priority
(so a manual edit wins over discovery unless configured), and how location paths
become places. :func:`load_sources` checks it (unknown keys are errors naming the
file and entry) and returns :class:`SourcesConfig`. Its ``parties`` say which sheet
columns name a person or a team, and which relationship links the CI to it
(:mod:`cmdb.services.imports.parties`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from cmdb.errors import SchemaDefinitionError
from cmdb.model.registry import DEFAULT_SCHEMA_DIR, Registry
from cmdb.services.cis.places import PlaceRules

Rule = Literal["id", "asset_tag", "serial_number", "mac_addresses", "hostnames"]
MANUAL = "manual"
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourcePolicy(_Strict):
    """What one source may do: create CIs, set which fields, with which priority."""

    priority: int = Field(ge=0, le=1000)
    create: bool = False
    software: bool = False
    lists: Literal["replace", "merge"] = "replace"
    authoritative: tuple[str, ...] = ()
    field_priority: dict[str, int] = Field(default_factory=dict)

    def is_authoritative(self, field: str) -> bool:
        """May this source set ``field`` at all."""
        return "*" in self.authoritative or field in self.authoritative

    def priority_for(self, field: str) -> int:
        return self.field_priority.get(field, self.priority)


#: The observation fields a party column may be; any other key is an attribute
#: (``attributes.<key>``) that the entry's headers, or a user's mapping, feed.
PARTY_FIELDS = ("owner", "department")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class PartyColumn(_Strict):
    """A column that names a person or a team: the class of CI it names, and the
    relationship that links the CI to it (``OWNED_BY``, ``MANAGED_BY``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    class_name: str = Field(alias="class")
    relationship: str
    #: Sheet headers naming this column, besides the built-in ones of owner/department.
    headers: tuple[str, ...] = ()
    #: May a run that registers CIs create the person or team it does not find.
    create: bool = True


class SourcesConfig(_Strict):
    """The whole of ``sources.yaml``."""

    version: Literal[1] = 1
    identification: tuple[Rule, ...]
    sources: dict[str, SourcePolicy]
    places: PlaceRules = PlaceRules()
    parties: dict[str, PartyColumn] = Field(default_factory=dict)

    @field_validator("parties")
    @classmethod
    def _keys(cls, value: dict[str, PartyColumn]) -> dict[str, PartyColumn]:
        for key in value:
            if not _KEY.match(key):
                raise ValueError(f"{key!r}: a party column is named like an attribute "
                                 "(lower case letters, digits, _)")
        return value

    def policy(self, source: str) -> SourcePolicy:
        """The policy of ``source``; a source the file does not name may do nothing."""
        return self.sources.get(source) or SourcePolicy(priority=0)

    def setter_priority(self, setter: str | None, field: str) -> int:
        """The priority of whoever set a value (``None``: set by hand)."""
        return self.policy(setter or MANUAL).priority_for(field)


def _fail(path: Path, entry: str, message: str) -> SchemaDefinitionError:
    return SchemaDefinitionError(f"{path.name}: {entry}: {message}", file=str(path), entry=entry)


def load_sources(directory: Path | None = None, registry: Registry | None = None,
                 ) -> SourcesConfig:
    """Read and check ``sources.yaml`` (the packaged one by default)."""
    path = (directory or DEFAULT_SCHEMA_DIR) / "sources.yaml"
    if not path.exists() and directory is not None:
        path = DEFAULT_SCHEMA_DIR / "sources.yaml"
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise _fail(path, "(file)", f"not valid YAML: {exc}") from exc
    try:
        config = SourcesConfig.model_validate(raw)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _fail(path, where, str(first["msg"])) from exc
    if len(set(config.identification)) != len(config.identification):
        raise _fail(path, "identification", "a rule is listed twice")
    if registry is not None:
        rules = config.places
        for entry, name in [("places.top", rules.top), ("places.default", rules.default),
                            *((f"places.patterns.{n}", n) for n in rules.patterns)]:
            info = registry.classes.get(name)
            if info is None or info.abstract:
                raise _fail(path, entry, f"{name!r} is not a concrete CI class")
        _check_parties(path, config, registry)
    return config


def _check_parties(path: Path, config: SourcesConfig, registry: Registry) -> None:
    """Each party column names a concrete class its relationship may point to; a
    single-valued relationship (one owner) is fed by one column; a header names one."""
    from importers.columns import fold_header

    single: dict[str, str] = {}
    headers: dict[str, str] = {}
    for key, column in config.parties.items():
        entry = f"parties.{key}"
        info = registry.classes.get(column.class_name)
        if info is None or info.abstract:
            raise _fail(path, f"{entry}.class",
                        f"{column.class_name!r} is not a concrete CI class")
        rel = registry.relationship_types.get(column.relationship)
        if rel is None:
            raise _fail(path, f"{entry}.relationship", f"unknown relationship type "
                        f"{column.relationship!r}; known: "
                        + ", ".join(sorted(registry.relationship_types)))
        if not any(info.is_a(c) for c in rel.to):
            raise _fail(path, f"{entry}.relationship", f"{column.relationship} cannot point "
                        f"to a {column.class_name}; it points to {', '.join(rel.to)}")
        if rel.propagation != "none":
            raise _fail(path, f"{entry}.relationship", f"{column.relationship} carries "
                        "failures; a person or team is linked by one that does not "
                        "(OWNED_BY, MANAGED_BY)")
        if rel.single:
            if column.relationship in single:
                raise _fail(path, f"{entry}.relationship", f"{column.relationship} is single "
                            f"(one per CI) and parties.{single[column.relationship]} "
                            "already feeds it")
            single[column.relationship] = key
        for header in column.headers:
            folded = fold_header(header)
            if not folded:
                raise _fail(path, f"{entry}.headers", "an empty header")
            if folded in headers and headers[folded] != key:
                raise _fail(path, f"{entry}.headers", f"header {header!r} is already "
                            f"parties.{headers[folded]}'s")
            headers[folded] = key
