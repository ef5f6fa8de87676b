"""The plain-field executor answers exactly as strawberry's own executor does.

Each query runs through both, and the responses are compared byte for byte: over
HTTP on the demo estate (production mode, token authentication), and in process on a
small schema whose values break every rule a plain field can break (a null in a
non-null field, a value its scalar cannot serialize, an attribute that raises, an
awaitable, an exception as a value).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from unittest import mock

import orjson
import pytest
import strawberry
from strawberry.scalars import JSON
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from cmdb.api.graphql.execution import PlainFieldExecutor
from cmdb.api.graphql.schema import build_schema
from cmdb.model.access import Role
from cmdb.model.records import Actor
from tests.api.conftest import LiveServer
from tests.api.graphql.test_impact import ids_by_name

PATHS = """query($ids: [ID!]!) { impact(ciIds: $ids) { kind planned total truncated
  impacted { ci { id name class } status depth path { type from { name } to { name } } }
  services { ci { name } status depth } notify { party { name } roles } } }"""
TREE = """query($ids: [ID!]!) { impact(ciIds: $ids, kind: MAINTENANCE, maxDepth: 3) {
  total truncated changed { name }
  impacted { ci { id name class } status depth reachedFromId relationshipType
             reachedFrom { name reachedFromAlias: id } } } }"""
LISTING = """query($n: Int!, $more: Boolean!, $less: Boolean!) {
  cis(first: $n, orderBy: {field: NAME}) { totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename id class name state assetTag serialNumber version
      createdAt updatedAt stateLabel(language: "zh-CN") attributes provenance assetPageUrl
      location { name location { name } } owner { name }
      outgoing(first: 3) { totalCount edges { cursor node { __typename id type version
        createdAt endedAt attributes from { name } to { id name class } } } }
      incoming(first: 2) @include(if: $more) { totalCount edges { node { type } } }
      history(first: 2) @skip(if: $less) { nodes { action actor channel changes { field } } }
      ... on CI { alsoName: name } } } } }"""
FRAGMENTS = """fragment Named on CI { id name ...Placed }
fragment Placed on CI { location { ...Named2 } }
fragment Named2 on CI { name __typename }
query($ids: [ID!]!) {
  first: cis(first: 4) { edges { node { ...Named n1: name n2: name
                                        ... on CI @include(if: true) { class state } } } }
  second: cis(first: 2, after: null) { edges { node { name @skip(if: true) id } } }
  impact(ciIds: $ids) { __typename impacted { __typename ci { ...Named } } } }"""
ERRORS = """query($id: ID!) {
  one: ci(id: $id) { name location { name } outgoing(first: 9999) { totalCount } }
  two: ci(id: $id) { name outgoing(first: 2) { edges { node { type
    to { name outgoing(first: -1) { totalCount } } } } } }
  ok: cis(first: 1) { totalCount }
  none: ci(id: "no-such-ci") { name } }"""
SPOF = """query($s: ID!, $ids: [ID!]!) {
  singlePointsOfFailure(serviceId: $s) { ci { name class } depth path { type from { name } } }
  dependencies(ciIds: $ids) { dependencies { depth ci { name } sharedBy { name } } } }"""


@dataclass
class Both:
    live: LiveServer

    def post(self, query: str, variables: dict[str, Any],
             token: str | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = self.live.client.post("/graphql", json={"query": query, "variables": variables},
                                  headers=headers)
        return r.status_code, r.content

    def compare(self, query: str, variables: dict[str, Any],
                token: str | None = None) -> dict[str, Any]:
        """The response of each executor, asserted equal byte for byte; the body."""
        schema = self.live.app.state.schema
        assert schema.execution_context_class is PlainFieldExecutor
        read = PlainFieldExecutor._execute_plain
        with mock.patch.object(PlainFieldExecutor, "_execute_plain", autospec=True,
                               side_effect=read) as spy:
            fast = self.post(query, variables, token)
        schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
        try:
            standard = self.post(query, variables, token)
        finally:
            schema.execution_context_class = PlainFieldExecutor
        assert fast == standard
        body: dict[str, Any] = orjson.loads(fast[1])
        if body.get("data"):
            assert spy.call_count > 0, "no field took the direct path"
        return body


@pytest.fixture
def both(live: LiveServer) -> Both:
    return Both(live)


async def test_impact_in_both_shapes_is_byte_identical(both: Both) -> None:
    [switch, host] = await ids_by_name(both.live, "BJ-CORE-SW1", "bj-srv-0101")
    for ids in ([switch], [host], [switch, host]):
        body = both.compare(PATHS, {"ids": ids})
        assert body["data"]["impact"]["total"] > 0
        assert body["data"]["impact"]["impacted"][0]["path"]
        both.compare(TREE, {"ids": ids})


async def test_listings_fragments_aliases_directives_are_byte_identical(both: Both) -> None:
    [switch] = await ids_by_name(both.live, "BJ-CORE-SW1")
    for n, more, less in ((50, True, False), (7, False, True)):
        body = both.compare(LISTING, {"n": n, "more": more, "less": less})
        node = body["data"]["cis"]["edges"][0]["node"]
        assert ("incoming" in node) is more
        assert ("history" in node) is not less
    body = both.compare(FRAGMENTS, {"ids": [switch]})
    assert body["data"]["second"]["edges"][0]["node"].keys() == {"id"}


async def test_errors_and_refusals_are_byte_identical(both: Both) -> None:
    [switch, bank] = await ids_by_name(both.live, "BJ-CORE-SW1", "网上银行 Online banking")
    body = both.compare(ERRORS, {"id": switch})
    assert len(body["errors"]) == 3
    assert body["data"]["ok"]["totalCount"] > 0
    assert body["data"]["one"] is None
    assert body["data"]["two"]["outgoing"]["edges"][0]["node"]["to"] is None
    both.compare("query($ids: [ID!]!) { dependencies(ciIds: $ids, maxDepth: -1) { "
                 "dependencies { depth } } }", {"ids": [switch]})
    both.compare(SPOF, {"s": bank, "ids": [switch]})
    both.compare("query($ids: [ID!]!) { impact(ciIds: $ids, maxDepth: -1) { total } }",
                 {"ids": [switch]})
    both.compare("query { cis(first: 1) { edges { node { name nosuch } } } }", {})
    secret, _ = await both.live.app.state.cmdb.auth.create_token(
        Actor(name="tests"), "a reader", Role.READER)
    status, refused = both.post("{ users { login } cis(first: 1) { totalCount } }", {},
                                secret)
    assert status == 403
    assert b"FORBIDDEN" in refused
    both.compare("{ users { login } cis(first: 1) { totalCount } }", {}, secret)
    both.compare("{ tokens { name } }", {}, secret)
    assert both.compare("{ cis(first: 2) { edges { node { name } } } }", {}, secret)["data"]


# In process: the ways a plain field can go wrong, on a schema made for it.

@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.interface
class Named:
    name: str


@strawberry.type
class NamedThing(Named):
    """An implementation of an interface: its fields take the normal path."""

    count: int


@strawberry.type
class Thing:
    """Every field but one is plain; the values handed to it are anything at all."""

    name: str
    count: int
    maybe: str | None
    colour: Colour
    id: strawberry.ID
    at: datetime
    data: JSON
    inner: Thing | None
    must: Thing

    @strawberry.field
    def shout(self, times: int = 1) -> str:
        return self.name.upper() * times


@strawberry.type
class Wrapper:
    thing: Thing
    maybe_thing: Thing | None
    named: Named | None


class Loose:
    """A value where a Thing is expected: attributes read as plain fields read them."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


class Raising(Loose):
    @property
    def count(self) -> int:
        raise ValueError("count is not known")


class Awaiting(Loose):
    @property
    def maybe(self) -> Any:
        async def later() -> str:
            await asyncio.sleep(0)
            return "later"
        return later()


def good(name: str | None, **more: Any) -> Loose:
    values = {"name": name, "count": 3, "maybe": None, "colour": Colour.BLUE, "id": "x1",
              "at": datetime(2026, 5, 1, 8, 30, tzinfo=UTC),
              "data": {"k": [1, "二"]}, "inner": None, "must": None}
    values.update(more)
    return Loose(**values)


ROWS: dict[str, Callable[[], Any]] = {
    "fine": lambda: good("a", must=good("b"), inner=good("c", must=good("d"))),
    "null_in_non_null": lambda: good(None, must=good("b")),
    "unserializable_int": lambda: good("a", count="many", must=good("b")),
    "int_too_large": lambda: good("a", count=2**40, must=good("b")),
    "not_an_enum": lambda: good("a", colour="green", must=good("b")),
    "raising": lambda: Raising(**{**good("a", must=good("b")).__dict__}),
    "awaitable": lambda: Awaiting(**{k: v for k, v in good("a", must=good("b")).__dict__.items()
                                     if k != "maybe"}),
    "exception_as_value": lambda: good("a", maybe=ValueError("no"), must=good("b")),
    "null_object_in_non_null": lambda: good("a"),
    "deep_null": lambda: good("a", must=good("b"), inner=good("c", must=good(None))),
}


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing | None]:
        return [*(make() for make in ROWS.values()), ValueError("not a thing"), None]

    @strawberry.field
    async def later(self) -> list[Wrapper | None]:
        return [Wrapper(thing=make(), maybe_thing=make(), named=NamedThing(name="t", count=1))
                for make in ROWS.values()]

    @strawberry.field
    def strict(self) -> list[Thing] | None:
        return [ROWS["fine"](), ROWS["null_in_non_null"](), None]


THINGS = """fragment F on Thing { name count maybe colour id at data __typename
  inner { name must { name } } must { name alias: count } shout(times: 2) }
{ things { ...F }
  later { thing { ...F } maybeThing { name colour inner { name } }
          named { name ... on NamedThing { count } } }
  strict { name } }"""


async def test_every_way_a_plain_field_fails_is_answered_alike() -> None:
    plain = strawberry.Schema(query=Query, types=[NamedThing],
                              execution_context_class=PlainFieldExecutor)
    standard = strawberry.Schema(query=Query, types=[NamedThing])
    fast, slow = (await plain.execute(THINGS), await standard.execute(THINGS))
    assert fast.errors
    assert len(fast.errors) >= len(ROWS)

    def dump(result: Any) -> bytes:
        return orjson.dumps({"data": result.data,
                             "errors": [e.formatted for e in result.errors or ()]})

    assert dump(fast) == dump(slow)
    assert fast.data is not None
    assert fast.data["things"][0]["inner"]["must"] == {"name": "d"}


def test_the_app_uses_the_plain_field_executor() -> None:
    assert build_schema().execution_context_class is PlainFieldExecutor
    assert build_schema(plain_fields=False).execution_context_class is not PlainFieldExecutor
