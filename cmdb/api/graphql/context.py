"""What every GraphQL resolver can reach: the CMDB, the caller, batched loaders.

Loaders gather the keys asked for in one tick of the event loop and fetch
them in one store call, so a page of 100 CIs with their relationships costs
a constant number of store calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphql import DocumentNode
from strawberry.dataloader import DataLoader

from cmdb.model.access import Principal
from cmdb.model.queries import Window
from cmdb.model.records import CI, Actor, Relationship
from cmdb.services import Cmdb
from cmdb.store.base import Direction

RelKey = tuple[str, tuple[str, ...] | None]
#: A CI, the relationship types asked for, and the page: ``first`` after the id ``after``.
PageKey = tuple[str, tuple[str, ...] | None, int, str | None]


def _relationship_loader(
    cmdb: Cmdb, direction: Direction
) -> DataLoader[RelKey, list[Relationship]]:
    async def load(keys: Sequence[RelKey]) -> list[list[Relationship]]:
        by_types: dict[tuple[str, ...] | None, list[str]] = defaultdict(list)
        for ci_id, types in keys:
            by_types[types].append(ci_id)
        found: dict[RelKey, list[Relationship]] = {}
        for types, ids in by_types.items():
            result = await cmdb.store.relationships_of(ids, direction, types)
            for ci_id, rels in result.items():
                found[(ci_id, types)] = rels
        return [found.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def _page_loader(
    cmdb: Cmdb, direction: Direction
) -> DataLoader[PageKey, Window[Relationship]]:
    async def load(keys: Sequence[PageKey]) -> list[Window[Relationship]]:
        by_page: dict[tuple[tuple[str, ...] | None, int, str | None], list[str]] = \
            defaultdict(list)
        for ci_id, types, first, after in keys:
            by_page[(types, first, after)].append(ci_id)
        found: dict[PageKey, Window[Relationship]] = {}
        for (types, first, after), ids in by_page.items():
            result = await cmdb.store.relationship_pages(ids, direction, types, first, after)
            for ci_id, page in result.items():
                found[(ci_id, types, first, after)] = page
        return [found.get(k, Window([], 0, 0)) for k in keys]

    return DataLoader(load_fn=load)


@dataclass
class Context:
    """Per-request state handed to resolvers."""

    cmdb: Cmdb
    actor: Actor
    language: str = "en"
    principal: Principal | None = None
    document: DocumentNode | None = None
    """The request's document, already parsed and validated by the HTTP layer."""
    ci_loader: DataLoader[str, CI | None] = field(init=False)
    outgoing_loader: DataLoader[RelKey, list[Relationship]] = field(init=False)
    incoming_loader: DataLoader[RelKey, list[Relationship]] = field(init=False)
    outgoing_pages: DataLoader[PageKey, Window[Relationship]] = field(init=False)
    incoming_pages: DataLoader[PageKey, Window[Relationship]] = field(init=False)

    def __post_init__(self) -> None:
        async def load_cis(ids: Sequence[str]) -> list[CI | None]:
            found = await self.cmdb.store.get_cis(list(ids))
            return [found.get(i) for i in ids]

        self.ci_loader = DataLoader(load_fn=load_cis)
        self.outgoing_loader = _relationship_loader(self.cmdb, "out")
        self.incoming_loader = _relationship_loader(self.cmdb, "in")
        self.outgoing_pages = _page_loader(self.cmdb, "out")
        self.incoming_pages = _page_loader(self.cmdb, "in")

    def prime(self, cis: Sequence[CI]) -> None:
        """Remember CIs already read, so resolvers asking for them cost nothing."""
        for ci in cis:
            self.ci_loader.prime(ci.id, ci)
