"""The model's vocabulary: what the CMDB means by a state or a relationship type.

The code never names a state or a type; it asks by meaning. ``lifecycle.yaml`` flags
its states (``terminal``, ``in_use``, ``in_stock``, ``retired``, ``missing``,
``audited``, ``tone``) and ``relationships.yaml`` gives types a ``role`` (``location``,
``owner`` ...); :class:`Vocabulary`, a part of the
:class:`~cmdb.model.registry.Registry`, checks them at load time and answers
``registry.location_type``, ``registry.states_where(audited=False)`` and the like.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import NoReturn

from cmdb.errors import SchemaDefinitionError
from cmdb.model.definitions import (
    ONE_STATE_FLAGS,
    REQUIRED_ROLES,
    SOME_STATE_FLAGS,
    STATE_FLAGS,
    LifecycleFile,
    RelationshipsFile,
    RelationshipTypeDef,
    Role,
    Tone,
)


def fail(source: Path | None, file: str, entry: str, message: str) -> NoReturn:
    """A :class:`SchemaDefinitionError` naming the file and the entry."""
    where = str(source / file) if source else file
    raise SchemaDefinitionError(f"{file}: {entry}: {message}", file=where, entry=entry)


class Vocabulary:
    """The states and relationship types by meaning (a part of the registry)."""

    source: Path | None
    lifecycle: LifecycleFile
    _relationship_defs: dict[str, RelationshipTypeDef]
    _roles: dict[Role, str]

    def _fail(self, source: Path | None, file: str, entry: str, message: str) -> NoReturn:
        fail(source, file, entry, message)

    def _check_vocabulary(self, source: Path | None) -> None:
        """Each role on one type at most, the required ones present (location and owner
        single-valued); the flags one state (or at least one) must carry."""
        for name, d in self._relationship_defs.items():
            if d.role is None:
                continue
            if d.role in self._roles:
                self._fail(source, "relationships.yaml", f"types.{name}.role",
                           f"role {d.role.value!r} already belongs to {self._roles[d.role]}")
            if d.role in (Role.LOCATION, Role.OWNER) and not d.single:
                self._fail(source, "relationships.yaml", f"types.{name}.single",
                           f"the {d.role.value} type must be single: true (one per CI)")
            self._roles[d.role] = name
        for role in REQUIRED_ROLES:
            if role not in self._roles:
                self._fail(source, "relationships.yaml", "types",
                           f"no type has role: {role.value}; one must")
        for flag in (*ONE_STATE_FLAGS, *SOME_STATE_FLAGS):
            holders = [n for n, d in self.lifecycle.states.items() if getattr(d, flag)]
            if not holders:
                self._fail(source, "lifecycle.yaml", "states",
                           f"no state is flagged {flag}: true; one must be")
            if flag in ONE_STATE_FLAGS and len(holders) > 1:
                self._fail(source, "lifecycle.yaml", f"states.{holders[1]}.{flag}",
                           f"only one state may be flagged {flag}: true; {holders[0]} is already")

    # ---- relationship types by role ---------------------------------------------
    def role_type(self, role: Role) -> str:
        """The relationship type with ``role``; a coded error naming the file when no type
        has it (the required roles are checked at load time)."""
        found = self._roles.get(role)
        if found is None:
            self._fail(self.source, "relationships.yaml", "types",
                       f"no type has role: {role.value}")
        return found

    def types_with_role(self, *roles: Role) -> list[str]:
        """The relationship types with one of ``roles``, in the order of ``roles``."""
        return [self._roles[r] for r in roles if r in self._roles]

    @property
    def location_type(self) -> str:
        """The type that says where a CI is (``LOCATED_IN`` in the shipped schema)."""
        return self.role_type(Role.LOCATION)

    @property
    def owner_type(self) -> str:
        """The type that says who owns a CI (``OWNED_BY`` in the shipped schema)."""
        return self.role_type(Role.OWNER)

    # ---- states by flag ----------------------------------------------------------
    def states_where(self, **flags: bool) -> list[str]:
        """The states whose flags (``terminal``, ``in_use``, ``in_stock``, ``retired``,
        ``missing``, ``audited``) have the given values, in the order of the file:
        ``states_where(audited=False)``."""
        unknown = sorted(set(flags) - set(STATE_FLAGS))
        if unknown:
            raise ValueError(f"not state flags: {', '.join(unknown)}")
        return [n for n, d in self.lifecycle.states.items()
                if all(getattr(d, f) == v for f, v in flags.items())]

    @cached_property
    def terminal_states(self) -> frozenset[str]:
        """The states at the end of a CI's life (``disposed`` in the shipped schema)."""
        return frozenset(self.states_where(terminal=True))

    def is_terminal(self, state: str) -> bool:
        return state in self.terminal_states

    @cached_property
    def disposed_state(self) -> str:
        """Where disposing of a CI moves it: the first terminal state."""
        return self.states_where(terminal=True)[0]

    @cached_property
    def in_use_state(self) -> str:
        return self.states_where(in_use=True)[0]

    @cached_property
    def in_stock_state(self) -> str:
        return self.states_where(in_stock=True)[0]

    @cached_property
    def retired_state(self) -> str:
        return self.states_where(retired=True)[0]

    @cached_property
    def lost_state(self) -> str:
        """What an audit marks an asset nobody found: the first ``missing`` state."""
        return self.states_where(missing=True)[0]

    @cached_property
    def out_of_service_states(self) -> frozenset[str]:
        """Terminal, retired and missing states: no health check looks at a CI in one."""
        return frozenset(n for n, d in self.lifecycle.states.items()
                         if d.terminal or d.retired or d.missing)

    def state_tone(self, state: str) -> Tone:
        """The colour of ``state``'s badge (neutral for a state the schema lost)."""
        d = self.lifecycle.states.get(state)
        return d.tone if d is not None else Tone.NEUTRAL


def with_shipped_meanings(
    relationships: RelationshipsFile, lifecycle: LifecycleFile,
    shipped_relationships: RelationshipsFile, shipped_lifecycle: LifecycleFile,
) -> tuple[RelationshipsFile, LifecycleFile]:
    """A schema folder written before states had flags and types roles (none set in a
    file) takes them from the shipped schema, for the states and types of the same name;
    a file that sets any keeps its own."""
    meanings = ("tone", *STATE_FLAGS)
    if not any(set(meanings) & d.model_fields_set for d in lifecycle.states.values()):
        shipped = shipped_lifecycle.states
        lifecycle = lifecycle.model_copy(update={"states": {
            name: d.model_copy(update={f: getattr(shipped[name], f) for f in meanings})
            if name in shipped else d for name, d in lifecycle.states.items()}})
    if not any("role" in d.model_fields_set for d in relationships.types.values()):
        types = shipped_relationships.types
        relationships = relationships.model_copy(update={"types": {
            name: d.model_copy(update={"role": types[name].role}) if name in types else d
            for name, d in relationships.types.items()}})
    return relationships, lifecycle
