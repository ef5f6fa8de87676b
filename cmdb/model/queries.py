"""How callers ask for lists of CIs: filters, ordering, pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class CIOrderField(StrEnum):
    NAME = "name"
    ASSET_TAG = "asset_tag"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@dataclass(frozen=True)
class CIOrder:
    field: CIOrderField = CIOrderField.NAME
    descending: bool = False


@dataclass(frozen=True)
class AttributeMatch:
    """An attribute equal to a value (a list attribute: containing it)."""

    name: str
    value: Any


@dataclass(frozen=True)
class CISelection:
    """A CI filter already resolved by the services.

    ``classes`` is the explicit list of concrete class names (subclasses
    expanded); ``location_id`` matches CIs located in that place or anywhere
    below it; ``text`` matches name, asset tag or serial number;
    ``missing_attributes`` are attributes the CI must not have (e.g. never printed).
    """

    classes: tuple[str, ...] | None = None
    states: tuple[str, ...] | None = None
    location_id: str | None = None
    owner_id: str | None = None
    text: str | None = None
    attributes: tuple[AttributeMatch, ...] = ()
    missing_attributes: tuple[str, ...] = ()
    ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the sort value and id of its last item."""

    value: Any
    id: str


@dataclass
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    cursors: list[Cursor] = field(default_factory=list)


@dataclass
class Window(Generic[T]):
    """Part of an ordered list: ``items`` start at position ``start`` of ``total``."""

    items: list[T]
    start: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.start + len(self.items) < self.total


def window(items: list[T], first: int, after: Any, key: Any = None) -> Window[T]:
    """The ``first`` items after the one whose ``key`` is ``after`` (all from the start
    when ``after`` is None; none when it is not there)."""
    start = 0
    if after is not None:
        keys = [key(i) for i in items] if key else items
        start = keys.index(after) + 1 if after in keys else len(items)
    return Window(items[start:start + first], start, len(items))


@dataclass(frozen=True)
class ClosureRow:
    """One CI reached by a bounded traversal, with one shortest way to it.

    ``via`` is the relationship taken into this CI from ``parent`` (a CI one
    step closer to the start); both are ``None`` for the start CIs.
    """

    ci_id: str
    depth: int
    parent_id: str | None
    via_id: str | None
    via_type: str | None


@dataclass(frozen=True)
class ClosureResult:
    rows: list[ClosureRow]
    truncated: bool
