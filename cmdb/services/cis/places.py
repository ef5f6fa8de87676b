"""Location paths to places: ``北京总部/3楼机房/A01机柜`` -> the rack in that room of that site.

Each segment is looked for among the places (and racks) located, at any depth,
in the place the previous segment found, so a path may skip a level the register
has (``北京总部/3楼机房`` finds the room inside ``北京总部 / A座 3楼``). Segments
that do not exist are planned as new places when the run allows it, with the
class ``schema/sources.yaml`` gives them (site, building/floor, room, rack).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cmdb.model.queries import CIFacts, CIOrder, CISelection
from cmdb.model.records import CI, new_id
from cmdb.model.registry import Registry
from cmdb.store.base import Store

MAX_DEPTH = 6
MAX_LOCATION_DEPTH = 12
NAME_LIMIT = 50
CREATE_HINT = "register it or let the import create places (--create-places)"


class PlaceRules(BaseModel):
    """How the segments of a location path map to place classes when created (the
    ``places`` entry of ``schema/sources.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    top: str = "Site"
    default: str = "Room"
    patterns: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, patterns in value.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{name}: bad pattern {pattern!r}: {exc}") from None
        return value

    @cached_property
    def _compiled(self) -> list[tuple[str, list[re.Pattern[str]]]]:
        return [(name, [re.compile(p, re.IGNORECASE) for p in patterns])
                for name, patterns in self.patterns.items()]

    def class_for(self, segment: str, depth: int) -> str:
        """The class a new place named ``segment`` at ``depth`` (0 = top) gets."""
        if depth == 0:
            return self.top
        for name, patterns in self._compiled:
            if any(p.search(segment) for p in patterns):
                return name
        return self.default


async def location_path(store: Store, registry: Registry, ci: CI) -> list[CI]:
    """Where the CI is, outermost place first (site, building, room, rack)."""
    walk = await store.closure([ci.id], "out", [registry.location_type], MAX_LOCATION_DEPTH)
    rows = sorted((r for r in walk.rows if r.depth > 0), key=lambda r: r.depth)
    found = await store.get_cis([r.ci_id for r in rows]) if rows else {}
    return [found[r.ci_id] for r in reversed(rows) if r.ci_id in found]


@dataclass(frozen=True)
class NewPlace:
    """A place the run will create: its id, class, name and the place it is in."""

    id: str
    class_name: str
    name: str
    parent_id: str | None
    path: str


@dataclass
class Resolved:
    """A path resolved: the place id, the places to create first, or why it failed."""

    place_id: str | None = None
    creates: list[NewPlace] = field(default_factory=list)
    error: str | None = None


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


@dataclass
class PlaceMap:
    """Every registered place (and rack) with the place it is located in, in memory:
    read once, in one question, when a run has more than a few paths to resolve."""

    parent: dict[str, str | None] = field(default_factory=dict)
    by_name: dict[str, list[CIFacts]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def load(cls, store: Store, classes: tuple[str, ...],
                   terminal: frozenset[str]) -> PlaceMap:
        """The places of ``classes``; one in a ``terminal`` state is not found by name."""
        out = cls()
        for found in (await store.find_ci_facts("class", classes, ())).values():
            for place in found:
                out.parent[place.id] = place.location_id
                out.names[place.id] = place.name
                if place.state not in terminal:
                    out.by_name.setdefault(place.name.strip().casefold(), []).append(place)
        return out

    def ancestors(self, place_id: str) -> set[str]:
        """The place and every place it is located in (bounded, cycle-safe)."""
        out: set[str] = set()
        current: str | None = place_id
        while current is not None and current not in out and len(out) <= MAX_DEPTH:
            out.add(current)
            current = self.parent.get(current)
        return out

    def named(self, name: str, parent: str | None) -> list[CIFacts]:
        found = self.by_name.get(name.strip().casefold(), [])
        if parent is None:
            return list(found)
        return [c for c in found if c.id != parent and parent in self.ancestors(c.id)]


class PlaceResolver:
    """Resolves location paths for one import run, remembering what it planned.

    The first few questions go to the store one by one (a sighting, a small file);
    after ``load_after`` of them the whole place hierarchy is read once into a
    :class:`PlaceMap` and answered from memory.
    """

    def __init__(self, store: Store, registry: Registry, rules: PlaceRules,
                 load_after: int = 20, unknown_hint: str = CREATE_HINT) -> None:
        self.store = store
        #: What the refusal of an unknown segment tells people to do about it.
        self.unknown_hint = unknown_hint
        self.load_after = load_after
        self.asked = 0
        self.map: PlaceMap | None = None
        self.registry = registry
        self.rules = rules
        self.place_classes = tuple(sorted(
            {*registry.descendants("Place", concrete_only=True), "Rack"}))
        self.paths: dict[tuple[str, ...], Resolved] = {}
        self.planned: dict[tuple[str | None, str], NewPlace] = {}
        self._found: dict[tuple[str | None, str], tuple[str | None, str | None]] = {}
        self._ancestors: dict[str, set[str]] = {}

    async def _named(self, name: str, parent: str | None) -> list[tuple[str, str]]:
        """Places called ``name`` (anywhere, or located in ``parent`` at any depth), as
        (id, class)."""
        if await self._mapped():
            assert self.map is not None
            return [(c.id, c.class_name) for c in self.map.named(name, parent)]
        selection = CISelection(classes=self.place_classes, text=name, location_id=parent)
        page = await self.store.list_cis(selection, CIOrder(), NAME_LIMIT, None)
        return [(c.id, c.class_name) for c in page.items
                if _same(c.name, name) and not self.registry.is_terminal(c.state)]

    async def names(self, place_ids: Sequence[str]) -> dict[str, str]:
        """The names of these places (from memory once the hierarchy is read)."""
        if self.map is not None:
            return {i: self.map.names[i] for i in place_ids if i in self.map.names}
        found = await self.store.find_ci_facts("id", place_ids, ()) if place_ids else {}
        return {i: facts[0].name for i, facts in found.items()}

    async def expect(self, paths: int) -> None:
        """Say how many different paths are coming: enough of them and the hierarchy is
        read at once, rather than after ``load_after`` questions to the store."""
        if self.map is None and paths > self.load_after:
            self.map = await PlaceMap.load(self.store, self.place_classes,
                                            self.registry.terminal_states)

    async def _mapped(self) -> bool:
        """Whether to answer from memory (loading the map on the question that tips it)."""
        self.asked += 1
        if self.map is None and self.asked > self.load_after:
            self.map = await PlaceMap.load(self.store, self.place_classes,
                                            self.registry.terminal_states)
        return self.map is not None

    def known_ancestors(self, place_id: str) -> set[str] | None:
        """:meth:`ancestors` when memory knows them (``None``: ask :meth:`ancestors`)."""
        if self.map is not None and place_id in self.map.parent:
            return self.map.ancestors(place_id)
        return self._ancestors.get(place_id)

    async def ancestors(self, place_id: str) -> set[str]:
        """The place itself and every place it is located in."""
        if await self._mapped() and self.map is not None and place_id in self.map.parent:
            return self.map.ancestors(place_id)
        if place_id not in self._ancestors:
            closure = await self.store.closure([place_id], "out",
                                               [self.registry.location_type], MAX_DEPTH)
            self._ancestors[place_id] = {r.ci_id for r in closure.rows}
        return self._ancestors[place_id]

    async def _find(self, parent: str | None, name: str) -> tuple[str | None, str | None]:
        """The place called ``name`` in ``parent`` (anywhere when None): (id, error)."""
        key = (parent, name.casefold())
        if key in self.planned:
            return self.planned[key].id, None
        if key not in self._found:
            found = await self._named(name, parent)
            if parent is None:
                found = [c for c in found if c[1] == self.rules.top] or found
            elif len(found) > 1:  # prefer the one directly in the parent
                direct = await self.store.relationships_of([c[0] for c in found], "out",
                                                           [self.registry.location_type])
                found = [c for c in found
                         if any(r.target_id == parent for r in direct.get(c[0], []))] or found
            if len(found) > 1:
                self._found[key] = (None, f"place {name!r} is ambiguous: {len(found)} places "
                                          "have that name; give the full path from the site")
            else:
                self._found[key] = (found[0][0] if found else None, None)
        return self._found[key]

    async def resolve(self, path: list[str], create: bool) -> Resolved:
        """The place a path names, planning the missing ones when ``create``."""
        key = tuple(path)
        if key in self.paths:
            return self.paths[key]
        result = Resolved()
        parent: str | None = None
        for depth, segment in enumerate(path):
            found, error = await self._find(parent, segment)
            if error:
                result = Resolved(error=error)
                break
            if found is None:
                shown = "/".join(path[: depth + 1])
                if not create:
                    where = f" in {path[depth - 1]!r}" if depth else ""
                    result = Resolved(error=(
                        f"place {segment!r}{where} is not registered ({shown}); "
                        + self.unknown_hint))
                    break
                place = NewPlace(new_id(), self.rules.class_for(segment, depth), segment,
                                 parent, shown)
                self.planned[(parent, segment.casefold())] = place
                result.creates.append(place)
                found = place.id
            parent = found
        if result.error is None:
            result.place_id = parent
        self.paths[key] = result
        return result
