"""The schema registry: CI classes, relationship types and the lifecycle, loaded from data.

``load_registry()`` reads the YAML files of a schema folder (the packaged
``schema/`` by default), checks every cross reference, and returns a
:class:`Registry` the services ask questions of: is this class known, which
attributes does it have, may this relationship join these two CIs, may a CI
move from this state to that one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from cmdb.errors import (
    InvalidTransitionError,
    RelationshipRuleError,
    ReservedFieldError,
    SchemaDefinitionError,
    UnknownClassError,
    ValidationError,
)
from cmdb.model.definitions import (
    CLASS_NAME,
    STATE_NAME,
    TYPE_NAME,
    AttributeDef,
    ClassDef,
    ClassesFile,
    Labels,
    LifecycleFile,
    Propagation,
    RelationshipsFile,
    RelationshipTypeDef,
    Role,
)
from cmdb.model.vendors import ExtraVendorsFile, Vendors, VendorsFile, merged
from cmdb.model.vocabulary import Vocabulary, with_shipped_meanings


def _packaged_schema() -> Path:
    """The schema folder: ``cmdb/schema`` in an installed wheel (pyproject maps the
    repository's ``schema/`` there), the repository's own ``schema/`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "schema"
    return installed if installed.is_dir() else package.parent / "schema"


DEFAULT_SCHEMA_DIR = _packaged_schema()
ROOT_CLASS = "ConfigurationItem"

F = TypeVar("F", bound=BaseModel)
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _fold(text: str) -> str:
    """Case- and space-insensitive key for matching aliases."""
    return " ".join(text.casefold().split())


def _read(path: Path, model: type[F]) -> F:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)  # noqa: S506 - a safe loader
    except FileNotFoundError as exc:
        raise SchemaDefinitionError(f"{path}: file is missing", file=str(path)) from exc
    except yaml.YAMLError as exc:
        raise SchemaDefinitionError(f"{path}: not valid YAML: {exc}", file=str(path)) from exc
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SchemaDefinitionError(
            f"{path.name}: {where}: {first['msg']}", file=str(path), entry=where
        ) from exc


@dataclass(frozen=True)
class ClassInfo:
    """A CI class with its inherited attributes resolved."""

    name: str
    definition: ClassDef
    ancestors: tuple[str, ...]  # nearest first, ending with the root
    attributes: Mapping[str, AttributeDef]

    @property
    def abstract(self) -> bool:
        return self.definition.abstract

    def is_a(self, other: str) -> bool:
        """True when this class is ``other`` or inherits from it."""
        return other == self.name or other in self.ancestors


class Registry(Vocabulary):
    """Everything ``schema/`` declares, checked and indexed."""

    def __init__(
        self,
        classes: ClassesFile,
        relationships: RelationshipsFile,
        lifecycle: LifecycleFile,
        source: Path | None = None,
        vendors: Vendors | None = None,
    ) -> None:
        self.source = source
        self.lifecycle = lifecycle
        self.vendors = vendors or Vendors(VendorsFile())
        self._class_defs = classes.classes
        self._relationship_defs = relationships.types
        self.classes: dict[str, ClassInfo] = {}
        self._roles: dict[Role, str] = {}
        self._check_classes(source)
        self._check_relationships(source)
        self._check_lifecycle(source)
        self._check_vocabulary(source)
        self._class_aliases = self._alias_index(
            ((name, [name, info.definition.label.en, info.definition.label.zh_cn or "",
                     *info.definition.aliases]) for name, info in self.classes.items()),
            "classes.yaml", source,
        )
        self._state_aliases = self._alias_index(
            ((name, [name, d.label.en, d.label.zh_cn or "", *d.aliases])
             for name, d in lifecycle.states.items()),
            "lifecycle.yaml", source,
        )
        self._type_aliases = self._alias_index(
            ((name, [name, d.label.en, d.label.zh_cn or "", *d.aliases])
             for name, d in self._relationship_defs.items()),
            "relationships.yaml", source,
        )

    # ---- checks --------------------------------------------------------------
    def _check_classes(self, source: Path | None) -> None:
        defs = self._class_defs
        if ROOT_CLASS not in defs:
            self._fail(source, "classes.yaml", "classes", f"the root class {ROOT_CLASS} is missing")
        for name, d in defs.items():
            if not CLASS_NAME.match(name):
                self._fail(source, "classes.yaml", f"classes.{name}", "class names are PascalCase")
            if name == ROOT_CLASS:
                if d.parent is not None:
                    self._fail(source, "classes.yaml", f"classes.{name}.parent",
                               "the root class has no parent")
                continue
            if d.parent is None:
                self._fail(source, "classes.yaml", f"classes.{name}.parent",
                           f"every class but {ROOT_CLASS} names a parent")
            elif d.parent not in defs:
                self._fail(source, "classes.yaml", f"classes.{name}.parent",
                           f"unknown parent class {d.parent!r}")
        for name in defs:
            chain: list[str] = []
            cursor = defs[name].parent
            while cursor is not None:
                if cursor in chain or cursor == name:
                    self._fail(source, "classes.yaml", f"classes.{name}.parent",
                               "the class hierarchy has a cycle")
                chain.append(cursor)
                cursor = defs[cursor].parent
            attributes: dict[str, AttributeDef] = {}
            for owner in [*reversed(chain), name]:
                for attr, adef in defs[owner].attributes.items():
                    if attr in attributes and owner == name:
                        self._fail(source, "classes.yaml", f"classes.{name}.attributes.{attr}",
                                   "redeclares an inherited attribute")
                    attributes[attr] = adef
            self.classes[name] = ClassInfo(name, defs[name], tuple(chain), attributes)

    def _check_relationships(self, source: Path | None) -> None:
        for name, d in self._relationship_defs.items():
            if not TYPE_NAME.match(name):
                self._fail(source, "relationships.yaml", f"types.{name}",
                           "relationship types are UPPER_SNAKE_CASE")
            for end, classes in (("from", d.from_), ("to", d.to)):
                for cls in classes:
                    if cls not in self._class_defs:
                        self._fail(source, "relationships.yaml", f"types.{name}.{end}",
                                   f"unknown class {cls!r}")
    def _check_lifecycle(self, source: Path | None) -> None:
        lc = self.lifecycle
        states = lc.states
        for name in states:
            if not STATE_NAME.match(name):
                self._fail(source, "lifecycle.yaml", f"states.{name}",
                           "states are lower_snake_case")
        if lc.initial not in states:
            self._fail(source, "lifecycle.yaml", "initial", f"unknown state {lc.initial!r}")
        for origin, targets in lc.transitions.items():
            if origin not in states:
                self._fail(source, "lifecycle.yaml", f"transitions.{origin}", "unknown state")
            for target in targets:
                if target not in states:
                    self._fail(source, "lifecycle.yaml", f"transitions.{origin}",
                               f"unknown target state {target!r}")
        for target in lc.from_any:
            if target not in states:
                self._fail(source, "lifecycle.yaml", "from_any", f"unknown state {target!r}")
    def _alias_index(
        self, entries: Iterable[tuple[str, list[str]]], file: str, source: Path | None
    ) -> dict[str, str]:
        index: dict[str, str] = {}
        for name, names in entries:
            for alias in names:
                if not alias:
                    continue
                key = _fold(alias)
                if index.setdefault(key, name) != name:
                    self._fail(source, file, name,
                               f"alias {alias!r} already names {index[key]!r}")
        return index

    # ---- classes -------------------------------------------------------------
    def class_info(self, name: str) -> ClassInfo:
        """The class called ``name`` (or a label or alias of it, English or Chinese); an
        unknown name is a coded error listing the classes in both languages."""
        info = self.classes.get(name)
        if info is None:
            info = self.classes.get(self._class_aliases.get(_fold(name), ""))
        if info is None:
            known = ", ".join(_bilingual(n, i.definition.label)
                              for n, i in sorted(self.classes.items()) if not i.abstract)
            raise UnknownClassError(f"unknown class {name!r}; classes: {known}",
                                    field="class", value=name)
        return info

    def concrete_class(self, name: str) -> ClassInfo:
        """A class a CI can be created in (not abstract)."""
        info = self.class_info(name)
        if info.abstract:
            options = ", ".join(self.descendants(name, concrete_only=True))
            raise UnknownClassError(
                f"class {name!r} is abstract; use one of: {options}", field="class", value=name
            )
        return info

    def descendants(self, name: str, *, concrete_only: bool = False) -> list[str]:
        """``name`` and every class below it, sorted."""
        name = self.class_info(name).name
        return sorted(
            c for c, info in self.classes.items()
            if info.is_a(name) and not (concrete_only and info.abstract)
        )

    def resolve_class(self, text: str) -> str | None:
        """The class a name, label or alias (English or Chinese) stands for."""
        return self._class_aliases.get(_fold(text))

    @cached_property
    def system_attributes(self) -> frozenset[str]:
        """Attributes the CMDB keeps itself (``system: true`` in any class)."""
        return frozenset(name for info in self.classes.values()
                         for name, d in info.attributes.items() if d.system)

    def refuse_system(self, names: Iterable[str], where: str) -> None:
        """``ReservedFieldError`` naming the first attribute in ``names`` that only the
        CMDB may set (``where`` says how it was sent, for the message)."""
        for name in names:
            if name in self.system_attributes:
                raise ReservedFieldError(
                    f"{name} is kept by the CMDB itself (audits, label printing and "
                    f"discovery set it); it cannot be set by {where}", field=name)

    # ---- relationships ---------------------------------------------------------
    @cached_property
    def relationship_types(self) -> dict[str, RelationshipTypeDef]:
        return dict(self._relationship_defs)

    def relationship_type(self, name: str) -> RelationshipTypeDef:
        """The type called ``name`` (or its English or Chinese label)."""
        return self._relationship_defs[self.type_name(name)]

    def type_name(self, text: str) -> str:
        """The relationship type ``text`` names: ``DEPENDS_ON`` for "依赖于" or "depends on"."""
        if text in self._relationship_defs:
            return text
        found = self._type_aliases.get(_fold(text))
        if found is None:
            known = ", ".join(_bilingual(n, d.label) for n, d in
                              sorted(self._relationship_defs.items()))
            raise RelationshipRuleError(
                f"unknown relationship type {text!r}; known types: {known}", field="type",
                value=text,
            )
        return found

    def check_relationship(self, type_name: str, source_class: str, target_class: str) -> None:
        """Refuse a relationship whose ends are not of the classes its type allows."""
        d = self.relationship_type(type_name)
        src, dst = self.class_info(source_class), self.class_info(target_class)
        if not any(src.is_a(c) for c in d.from_):
            raise RelationshipRuleError(
                f"{type_name} cannot start at a {source_class}; allowed: {', '.join(d.from_)}",
                field="from", type=type_name,
            )
        if not any(dst.is_a(c) for c in d.to):
            raise RelationshipRuleError(
                f"{type_name} cannot point to a {target_class}; allowed: {', '.join(d.to)}",
                field="to", type=type_name,
            )

    def types_propagating(self, *kinds: Propagation) -> list[str]:
        """Relationship types whose propagation is one of ``kinds``."""
        return sorted(n for n, d in self._relationship_defs.items() if d.propagation in kinds)

    # ---- lifecycle -------------------------------------------------------------
    @property
    def states(self) -> list[str]:
        return list(self.lifecycle.states)

    def allowed_transitions(self, state: str) -> list[str]:
        """The states a CI in ``state`` may move to."""
        targets = list(self.lifecycle.transitions.get(state, ()))
        targets += [s for s in self.lifecycle.from_any if s != state and s not in targets]
        return targets

    def check_state(self, state: str) -> str:
        """The state ``state`` names (a name, label or alias, English or Chinese)."""
        if state in self.lifecycle.states:
            return state
        found = self._state_aliases.get(_fold(state))
        if found is None:
            known = ", ".join(_bilingual(n, d.label) for n, d in self.lifecycle.states.items())
            raise ValidationError(f"unknown state {state!r}; states: {known}",
                                  field="state", value=state)
        return found

    def check_transition(self, current: str, target: str) -> str:
        """The state ``target`` names, if a CI in ``current`` may move there; else a coded
        error naming the allowed ones."""
        target = self.check_state(target)
        allowed = self.allowed_transitions(current)
        if target not in allowed:
            states = self.lifecycle.states
            listed = ", ".join(_bilingual(a, states[a].label) for a in allowed) if allowed \
                else "none (final state)"
            raise InvalidTransitionError(
                f"cannot move from {current!r} to {target!r}; allowed from {current!r}: {listed}",
                current=current, target=target, allowed=allowed,
            )
        return target

    def resolve_state(self, text: str) -> str | None:
        """The state a name, label or alias (English or Chinese) stands for."""
        return self._state_aliases.get(_fold(text))


def _bilingual(name: str, label: Labels | None) -> str:
    """``deployed (在用)``: a name as typed, with its Chinese label for those who read it."""
    zh = label.zh_cn if label else None
    return f"{name} ({zh})" if zh and zh != name else name


def load_registry(directory: Path | None = None, vendors_file: Path | None = None) -> Registry:
    """Load and check ``classes.yaml``, ``relationships.yaml``, ``lifecycle.yaml`` and
    ``vendors.yaml`` (a folder without a vendor table uses the packaged one), with the
    operator's own manufacturer aliases from ``vendors_file`` added to the table."""
    folder = directory or DEFAULT_SCHEMA_DIR
    vendors = folder / "vendors.yaml"
    if not vendors.exists():
        vendors = DEFAULT_SCHEMA_DIR / "vendors.yaml"
    table = _read(vendors, VendorsFile)
    if vendors_file is not None:
        table = merged(table, _read(vendors_file, ExtraVendorsFile))
    relationships = _read(folder / "relationships.yaml", RelationshipsFile)
    lifecycle = _read(folder / "lifecycle.yaml", LifecycleFile)
    if folder.resolve() != DEFAULT_SCHEMA_DIR.resolve():
        relationships, lifecycle = with_shipped_meanings(
            relationships, lifecycle, _read(DEFAULT_SCHEMA_DIR / "relationships.yaml",
                                            RelationshipsFile),
            _read(DEFAULT_SCHEMA_DIR / "lifecycle.yaml", LifecycleFile))
    return Registry(
        _read(folder / "classes.yaml", ClassesFile),
        relationships,
        lifecycle,
        source=folder,
        vendors=Vendors(table, vendors_file or vendors),
    )


def describe(registry: Registry) -> dict[str, Any]:
    """A plain summary of the schema (for docs and the API)."""
    return {
        "classes": {n: {"parent": i.definition.parent, "abstract": i.abstract,
                        "attributes": sorted(i.attributes)} for n, i in registry.classes.items()},
        "relationship_types": sorted(registry.relationship_types),
        "states": registry.states,
    }
