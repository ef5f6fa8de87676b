"""Fuzzing the live server with GraphQL generated from its own schema (hypothesis):
random root fields, arguments of the right (and sometimes wrong) types, nested
selections, and plain garbage. No answer may be a 5xx or an unmasked crash."""

from __future__ import annotations

import json
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmdb.api.graphql.schema import build_schema
from tests.api.conftest import LiveServer

SCHEMA: GraphQLSchema = build_schema()._schema
JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                       lambda kids: st.lists(kids, max_size=3)
                       | st.dictionaries(st.text(max_size=8), kids, max_size=3), max_leaves=8)
SCALARS = {
    "String": st.text(max_size=30), "ID": st.text(max_size=30), "Boolean": st.booleans(),
    "Int": st.integers(-(2**31), 2**31 - 1), "Float": st.floats(allow_nan=False,
                                                                 allow_infinity=False),
    "JSON": JSONISH, "DateTime": st.datetimes().map(lambda d: d.isoformat()) | st.text(max_size=20),
    "Date": st.dates().map(lambda d: d.isoformat()) | st.text(max_size=12),
}


def value(t: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of an input type, with a few of the wrong type (and nulls) mixed in."""
    if isinstance(t, GraphQLNonNull):
        return value(t.of_type, depth)
    wrong = st.none() | st.integers() | st.text(max_size=5)
    if isinstance(t, GraphQLList):
        return st.lists(value(t.of_type, depth + 1), max_size=3) | wrong
    if isinstance(t, GraphQLEnumType):
        return st.sampled_from(list(t.values)) | wrong
    if isinstance(t, GraphQLInputObjectType):
        if depth > 2:
            return st.just({})
        fields = {n: value(f.type, depth + 1) for n, f in t.fields.items()}
        return st.fixed_dictionaries({}, optional=fields) | wrong
    assert isinstance(t, GraphQLScalarType)
    return st.one_of(SCALARS.get(t.name, st.text(max_size=10)), wrong)


@st.composite
def selection(draw: st.DrawFn, t: Any, depth: int = 0) -> str:
    named = get_named_type(t)
    if isinstance(named, GraphQLUnionType):
        return "{ __typename }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    names = sorted(named.fields)
    picked = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    parts = []
    for name in picked:
        field = named.fields[name]
        if any(isinstance(a.type, GraphQLNonNull) for a in field.args.values()):
            continue
        sub_type = get_named_type(field.type)
        if isinstance(sub_type, GraphQLObjectType | GraphQLUnionType):
            if depth >= 3:
                continue
            parts.append(f"{name} {draw(selection(field.type, depth + 1))}")
        else:
            parts.append(name)
    return "{ " + (" ".join(parts) or "__typename") + " }"


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["query", "mutation"]))
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root is not None
    name = draw(st.sampled_from(sorted(root.fields)))
    field: GraphQLField = root.fields[name]
    args = [a for a, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) or draw(st.booleans())]
    variables = {a: draw(value(field.args[a].type)) for a in args}
    declared = ", ".join(f"${a}: {field.args[a].type}" for a in args)
    passed = ", ".join(f"{a}: ${a}" for a in args)
    query = (f"{kind}{f'({declared})' if declared else ''} "
             f"{{ {name}{f'({passed})' if passed else ''} {draw(selection(field.type))} }}")
    return query, variables


GARBAGE = st.one_of(
    st.text(max_size=200).map(lambda s: {"query": s}),
    st.dictionaries(st.sampled_from(["query", "variables", "operationName", "extensions"]),
                    JSONISH, max_size=4),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(op=operations(), garbage=GARBAGE, raw=st.booleans())
def test_generated_requests_never_crash_the_server(
    live: LiveServer, op: tuple[str, dict[str, Any]], garbage: dict[str, Any], raw: bool
) -> None:
    query, variables = op
    payload = garbage if raw else {"query": query, "variables": variables}
    r = live.client.post("/graphql", content=json.dumps(payload),
                         headers={"content-type": "application/json"})
    assert r.status_code < 500, (payload, r.text)
    body = r.json()
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors", [])}
    assert "INTERNAL" not in codes, (payload, r.text)
