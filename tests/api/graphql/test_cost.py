"""The cost model and the shape bounds, on documents alone (no server): the estimate is
the product of page sizes along nested lists, fragments count as execution runs them,
and every walk stays linear in the document."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import get_operation_ast, parse, specified_rules

from cmdb.api.graphql.cost import LIST_SIZES, WEIGHTS, CostModel, check_shape, estimate
from cmdb.api.graphql.documents import Bounds, Documents
from cmdb.api.graphql.endpoint import GraphQLHTTP
from cmdb.api.graphql.schema import build_schema
from cmdb.api.web.html import Html
from cmdb.settings import Settings

SCHEMA = build_schema()
MODEL = CostModel(budget=100_000, max_page=500)


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return estimate(SCHEMA._schema, document, operation, variables, MODEL)


def test_cost_is_the_product_of_page_sizes_along_nested_lists() -> None:
    # cis (1) + 10 x [edges (1) + node (1) + name (1)]
    assert cost("{ cis(first: 10) { edges { node { name } } } }") == 1 + 10 * 3
    # outgoing's default page is 50: 10 x (3 + 50 x 3)
    nested = "{ cis(first: 10) { edges { node { outgoing { edges { node { type } } } } } } }"
    assert cost(nested) == 1 + 10 * (3 + 50 * 3)
    # a variable page size counts; a page beyond the largest counts as the largest
    paged = "query($n: Int!) { cis(first: $n) { edges { node { name } } } }"
    assert cost(paged, {"n": 7}) == 1 + 7 * 3
    assert cost(paged, {"n": 10**9}) == 1 + 500 * 3
    assert cost("{ cis(first: " + "9" * 5000 + ") { totalCount } }") == 1 + 500


def test_lists_without_pages_count_their_known_bound_or_the_largest_page() -> None:
    assert LIST_SIZES["HistoryEntry.changes"] == 20
    q = "{ history(first: 10) { nodes { changes { field } } } }"
    # history + 10 x [nodes (1) + changes (1) + 20 x field (1)]
    assert cost(q) == WEIGHTS["Query.history"] + 10 * (1 + 1 + 20 * 1)
    impact = 'query { impact(ciIds: ["x"]) { changed { name } } }'
    assert cost(impact) == WEIGHTS["Query.impact"] + 1 + 500 * 1


def test_fragments_count_as_execution_runs_them() -> None:
    plain = cost("{ cis(first: 10) { edges { node { name assetTag } } } }")
    spread = cost("{ cis(first: 10) { edges { node { ...F ...F } } } }"
                  " fragment F on CI { name assetTag }")
    assert spread == plain
    doubling = "query { ...F0 }\n" + "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(40)) + \
        "fragment F40 on Query { cis(first: 3) { totalCount } }"
    assert cost(doubling) == 1 + 3 * 1


def test_introspection_costs_nothing() -> None:
    assert cost("{ __schema { types { name fields { name type { name } } } } }") == 0


def test_the_attack_from_the_audit_is_far_over_budget() -> None:
    attack = ("{cis(first:500){edges{node{outgoing(first:500){edges{node{to{"
              "incoming(first:500){edges{node{from{name id}}}}}}}}}}}}")
    assert len(attack) < 190
    assert cost(attack) > 100 * MODEL.budget


def test_shape_refuses_repeated_fields_and_huge_selection_sets() -> None:
    assert check_shape(parse("{ " + "a " * 30 + "}"), 30, 500) == []
    (err,) = check_shape(parse("{ " + "a " * 31 + "}"), 30, 500)
    assert "`a` is selected more than 30 times" in err.message
    assert err.extensions == {"code": "LIMIT_EXCEEDED", "limit": 30, "field": "a"}
    (err,) = check_shape(parse("{ " + " ".join(f"a{i}: b" for i in range(501)) + " }"),
                         30, 500)
    assert "holds 501 selections" in err.message
    # through fragments: each distinct fragment once, as execution merges them
    many = "{ " + " ".join(f"...F{i}" for i in range(40)) + " }" + "".join(
        f" fragment F{i} on Query {{ a }}" for i in range(40))
    (err,) = check_shape(parse(many), 30, 500)
    assert "(fragments included)" in err.message
    same = "{ ...F ...F ...F } fragment F on Query { a }"
    assert check_shape(parse(same), 30, 500) == []


def test_every_walk_is_linear_in_the_document() -> None:
    """Fragments spreading the next one twice: 2^n paths, n fragments. Preparing 60
    levels takes about twice as long as 30, not 2^30 times."""
    http = GraphQLHTTP(SCHEMA, Settings(), _no_context, Html(None))

    def doubling(levels: int) -> str:
        return "query { ...F0 }\n" + "".join(
            f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n"
            for i in range(levels)) + f"fragment F{levels} on Query {{ __typename }}"

    def seconds(query: str) -> float:
        started = time.perf_counter()
        prepared = http.documents._prepare(query)
        assert prepared.document is not None, prepared.errors
        document = prepared.document
        operation = get_operation_ast(document)
        assert operation is not None
        estimate(SCHEMA._schema, document, operation, None, MODEL)
        return time.perf_counter() - started

    small, large = seconds(doubling(30)), seconds(doubling(60))
    assert large < 1.0
    assert large < 6 * max(small, 0.005)


async def _no_context(_: Any) -> Any:
    raise AssertionError("not executed here")


def test_documents_are_parsed_and_validated_once_and_the_cache_is_bounded() -> None:
    docs = Documents(SCHEMA._schema, tuple(specified_rules), Bounds(max_tokens=5000, max_nesting=64,
                                                max_repeats=30, max_selections=500),
                     max_entries=3, max_chars=10_000)
    first = docs.prepare("{ __typename }")
    assert docs.prepare("{ __typename }") is first
    assert (docs.hits, docs.misses) == (1, 1)
    for i in range(10):
        docs.prepare(f"{{ a{i}: __typename }}")
    assert len(docs._cache) == 3
    big = "{ __typename " + "# padding\n" * 1000 + "}"
    docs.prepare(big)
    assert big not in docs._cache  # over a quarter of the budget: not kept
    refused = docs.prepare("{ nope }")
    assert refused.document is None
    assert refused.errors
    assert docs.prepare("{ nope }") is refused


@pytest.mark.parametrize(("query", "message"), [
    ("{" * 100 + "}" * 100, "more than 64 levels deep"),
    ("query { ...F0 }\n" + "".join(f"fragment F{i} on Query {{ ...F{i + 1} }}\n"
                                   for i in range(300)) + "fragment F300 on Query { a }",
     "fragments spread one another more than 200 levels deep"),
])
def test_nesting_is_refused_before_any_recursion(query: str, message: str) -> None:
    http = GraphQLHTTP(SCHEMA, Settings(), _no_context, Html(None))
    prepared = http.documents._prepare(query)
    assert prepared.document is None
    assert message in prepared.errors[0].message
    assert (prepared.errors[0].extensions or {})["code"] == "LIMIT_EXCEEDED"
