"""Hostile requests, one test per class of attack or bad input.

Each test sends what an attacker (or a broken client) would, through a real server with
authentication on, and asserts both the refusal (status, code, a message naming what is
wrong) and that the server stayed responsive for everybody else while it was refused:
``/healthz`` is probed from another thread for the whole time (``tests/api/responsive``).
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import httpx

from tests.api.conftest import LiveServer
from tests.api.responsive import probing

GQL = "application/graphql-response+json"


def series(text: str) -> set[str]:
    """The metric series (name and labels) in a /metrics page."""
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if not line.startswith("#")}


def test_methods_made_up_methods_and_paths_do_not_grow_metrics(live: LiveServer) -> None:
    """Unauthenticated requests with made-up methods and paths: each is refused, and
    /metrics counts them all under ``other`` (a closed label set), so it does not grow."""
    anonymous = httpx.Client(base_url=live.url, timeout=10)

    def attack(count: int) -> None:
        for _ in range(count):
            method = "X" + secrets.token_hex(6).upper()
            path = f"/{secrets.token_hex(4)}/{secrets.token_hex(4)}"
            r = anonymous.request(method, path)
            assert r.status_code in (401, 404, 405), (method, path, r.status_code)
            r = anonymous.request(method, "/graphql")
            assert r.status_code in (401, 405)

    live.client.get("/healthz")  # the probe's own series exists before the first count
    with probing(live.url) as probe:
        attack(50)
        live.client.get("/metrics")  # the scrape itself is a series too
        before = series(live.client.get("/metrics").text)
        attack(150)
        after = series(live.client.get("/metrics").text)
    probe.assert_responsive()
    assert after == before
    labels = set(re.findall(r'method="([^"]*)"', " ".join(after)))
    assert labels <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in labels
    routes = set(re.findall(r'route="([^"]*)"', " ".join(after)))
    assert routes <= {"other", "/graphql", "/metrics", "/healthz"}
    assert set(re.findall(r'status="([^"]*)"', " ".join(after))) <= {"2xx", "4xx"}
    anonymous.close()


def gql_raw(live: LiveServer, query: str, variables: dict[str, Any] | None = None,
            **headers: str) -> httpx.Response:
    return live.client.post("/graphql", json={"query": query, "variables": variables},
                            headers={"accept": GQL, **headers})


def refused(r: httpx.Response, status: int, code: str, *words: str) -> dict[str, Any]:
    """The first error of a refused GraphQL request, checked: status, code, and words
    the message must hold (what is wrong, where)."""
    assert r.status_code == status, r.text
    body = r.json()
    assert "data" not in body or body["data"] is None, body
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == code, error
    for word in words:
        assert word in error["message"], (word, error["message"])
    return error


def reads(live: LiveServer) -> int:
    return sum(live.app.state.cmdb.store.calls.values())


def test_cost_nested_connections_are_refused_before_anything_runs(live: LiveServer) -> None:
    """The audit's query: 116 bytes within every depth and alias limit, nested pages of
    500 (it ran 27 s and blocked /healthz all along on a few hundred CIs)."""
    hub = live.ok('mutation { createCI(input: {class: "Switch", name: "hub"}) { id } }')
    for i in range(20):
        ci = live.ok('mutation($n: String!) { createCI(input: {class: "Server", name: $n}) '
                     "{ id } }", {"n": f"s{i}"})["createCI"]
        live.ok('mutation($a: ID!, $b: ID!) { relate(from: $a, type: "CONNECTS_TO", to: $b)'
                " { id } }", {"a": ci["id"], "b": hub["createCI"]["id"]})
    attack = ("{cis(first:500){edges{node{outgoing(first:500){edges{node{to{"
              "incoming(first:500){edges{node{from{name id}}}}}}}}}}}}")
    live.ok("{ __typename }")
    before = reads(live)
    with probing(live.url) as probe:
        started = time.perf_counter()
        r = gql_raw(live, attack)
        elapsed = time.perf_counter() - started
    probe.assert_responsive()
    error = refused(r, 400, "LIMIT_EXCEEDED", "estimated cost is", "over the budget of 100000")
    assert error["extensions"]["cost"] > 100 * error["extensions"]["limit"]
    assert reads(live) == before  # nothing ran
    assert elapsed < 1.0
    # within budget, the same shape runs (small pages)
    small = attack.replace("500", "5")
    assert "errors" not in live.client.post("/graphql", json={"query": small}).json()


def test_fragments_spreading_each_other_twice_are_checked_in_linear_time(
        live: LiveServer) -> None:
    """~1 KB whose fragments each spread the next twice: 2^30 paths through the depth
    check and the permission walk before; now each fragment is looked at once."""
    doubling = "query{...F0}\n" + "".join(
        f"fragment F{i} on Query{{...F{i + 1} ...F{i + 1}}}\n" for i in range(30)) + \
        "fragment F30 on Query{__typename tokens{name}}"
    with probing(live.url) as probe:
        started = time.perf_counter()
        r = gql_raw(live, doubling)
        elapsed = time.perf_counter() - started
    probe.assert_responsive()
    assert r.status_code == 200, r.text
    assert r.json()["data"]["__typename"] == "Query"
    assert elapsed < 2.0
    # the permission walk still finds the admin-only field behind 30 levels of fragments
    reader = live.ok('mutation { createToken(name: "r", role: READER) { token } }')[
        "createToken"]["token"]
    r = gql_raw(live, doubling, authorization=f"Bearer {reader}")
    refused(r, 403, "FORBIDDEN", "tokens needs the admin role")
    # a diamond of fragments that would merge one field 2^30 times is refused by name
    diamond = "query{...F0}\n" + "".join(
        f"fragment F{i} on Query{{...A{i} ...B{i}}} fragment A{i} on Query{{...F{i + 1}}}"
        f" fragment B{i} on Query{{...F{i + 1} __typename}}\n" for i in range(30)) + \
        "fragment F30 on Query{__typename}"
    refused(gql_raw(live, diamond), 400, "LIMIT_EXCEEDED", "`__typename` is selected more "
            "than 30 times")


def test_repetitions_are_refused_before_validation(live: LiveServer) -> None:
    """1,000 copies of one field took 1.3-3.7 s in graphql-core's overlap rule."""
    thousand = "{" + " ".join(["cis{totalCount}"] * 1000) + "}"
    forty = "{" + " ".join(["cis{totalCount}"] * 40) + "}"
    with probing(live.url) as probe:
        started = time.perf_counter()
        r1 = gql_raw(live, thousand)
        r2 = gql_raw(live, forty)
        elapsed = time.perf_counter() - started
    probe.assert_responsive()
    refused(r1, 400, "LIMIT_EXCEEDED", "a selection set holds 1000 selections", "at most 500")
    error = refused(r2, 400, "LIMIT_EXCEEDED", "`cis` is selected more than 30 times")
    assert error["extensions"]["field"] == "cis"
    assert elapsed < 2.0


def test_nesting_braces_and_json_are_bounded(live: LiveServer) -> None:
    """Documents and JSON bodies nested thousands deep: the parsers recurse, so they are
    measured first; a body nested 90,000 deep used to be an internal error."""
    deep_document = "{" * 1500 + "}" * 1500
    deep_input = "{ cis(filter: {ids: " + "[" * 200 + "]" * 200 + "}) { totalCount } }"
    deep_body = ('{"query": "{ __typename }", "variables": {"a": ' + "[" * 90_000 +
                 "]" * 90_000 + "}}")
    deep_variables = {"v": {"a": None}}
    node: dict[str, Any] = deep_variables
    for _ in range(40):
        node["v"] = {"a": None}
        node = node["v"]
    with probing(live.url) as probe:
        r1 = gql_raw(live, deep_document)
        r2 = gql_raw(live, deep_input)
        r3 = live.client.post("/graphql", content=deep_body,
                              headers={"content-type": "application/json", "accept": GQL})
        r4 = gql_raw(live, "query($v: JSON) { __typename }", deep_variables)
    probe.assert_responsive()
    refused(r1, 400, "LIMIT_EXCEEDED", "more than 64 levels deep")
    refused(r2, 400, "LIMIT_EXCEEDED", "more than 64 levels deep")
    refused(r3, 400, "LIMIT_EXCEEDED", "the body is nested more than 32 levels deep")
    refused(r4, 400, "LIMIT_EXCEEDED", "the body is nested more than 32 levels deep")
