"""Hostile requests, one test per class of attack or bad input.

Each test sends what an attacker (or a broken client) would, through a real server with
authentication on, and asserts both the refusal (status, code, a message naming what is
wrong) and that the server stayed responsive for everybody else while it was refused:
``/healthz`` is probed from another thread for the whole time (``tests/api/responsive``).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from cmdb.settings import Settings
from tests.api.conftest import LiveServer, run_server
from tests.api.responsive import probing
from tests.importers.helpers import shared_strings_bomb

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
        r5 = live.client.post("/labels", content=b"[" * 5000 + b"]" * 5000,
                              headers={"content-type": "application/json"})
        r6 = live.client.post("/graphql", headers={"accept": GQL}, data={
            "operations": '{"query": "{ __typename }", "variables": {"a": ' + "[" * 5000 +
                          "]" * 5000 + "}}", "map": "{}"}, files={"0": ("a", b"x")})
    probe.assert_responsive()
    assert r5.status_code == 400, r5.text
    assert r5.json()["code"] == "LIMIT_EXCEEDED"
    assert r5.json()["message"] == "the body is nested more than 32 levels deep"
    refused(r6, 413, "LIMIT_EXCEEDED", "`operations` is nested more than 32 levels deep")
    refused(r1, 400, "LIMIT_EXCEEDED", "more than 64 levels deep")
    refused(r2, 400, "LIMIT_EXCEEDED", "more than 64 levels deep")
    refused(r3, 400, "LIMIT_EXCEEDED", "the body is nested more than 32 levels deep")
    refused(r4, 400, "LIMIT_EXCEEDED", "the body is nested more than 32 levels deep")


def test_numbers_too_large_are_refused_where_they_enter(live: LiveServer,
                                                        tmp_path: Path) -> None:
    """A 100,000-digit number in a variable, in a literal, in an uploaded lshw file."""
    digits = "9" * 100_000
    lshw = ('{"id": "h", "class": "system",\n"children": [{"id": "memory", '
            '"class": "memory", "size": ' + digits + "}]}").encode()
    with probing(live.url) as probe:
        r1 = live.client.post("/graphql", content=(
            '{"query": "query($n: Int) { cis(first: $n) { totalCount } }", '
            '"variables": {"n": ' + digits + "}}").encode(),
            headers={"content-type": "application/json", "accept": GQL})
        r2 = gql_raw(live, "{ cis(first: " + digits + ") { totalCount } }")
        r3 = live.client.post("/imports/lshw", files={"file": ("big.json", lshw)})
    probe.assert_responsive()
    refused(r1, 400, "BAD_JSON", "not valid JSON", "number")
    error = refused(r2, 400, "BAD_USER_INPUT", "Int")
    assert len(error["message"]) < 1100  # the value is not echoed whole
    assert r3.status_code == 422, r3.text
    assert r3.json()["code"] == "IMPORT_BAD_FILE"
    assert "out of range (at most 20 digits)" in r3.json()["message"]
    assert r3.json()["details"]["line"] == 2


def test_text_sizes_are_bounded_with_the_field_named(tmp_path: Path) -> None:
    """A 900 KB search text (within the 1 MB body) was an internal error."""
    for live in run_server(Settings(store_url=f"sqlite:///{tmp_path / 'sizes.sqlite3'}")):
        text = "x" * 900_000
        with probing(live.url) as probe:
            r1 = gql_raw(live, "query($t: String) { cis(filter: {text: $t}) { totalCount } }",
                         {"t": text})
            r2 = gql_raw(live, '{ cis(filter: {text: "' + text + '"}) { totalCount } }')
            r3 = gql_raw(live, "query($t: String) { cis(filter: {text: $t}) { totalCount } }",
                         {"t": "y" * 5000})
            r4 = live.client.post("/graphql", json={
                "query": 'mutation($id: ID!, $r: String) { transitionCI(id: $id, '
                         'to: "in_stock", reason: $r) { id } }',
                "variables": {"id": "x", "r": "理由" * 12_000}})
        probe.assert_responsive()
        refused(r1, 400, "LIMIT_EXCEEDED", "a text of 900000 characters", "100000")
        refused(r2, 400, "LIMIT_EXCEEDED", "more than 100000 characters")
        error = live.client.post("/graphql", json={
            "query": "query($t: String) { cis(filter: {text: $t}) { totalCount } }",
            "variables": {"t": "y" * 5000}}).json()["errors"][0]
        assert r3.status_code == 200
        assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "text"}
        assert "at most 200 characters" in error["message"]
        error = r4.json()["errors"][0]
        assert error["extensions"]["code"] == "VALIDATION_ERROR"
        assert error["message"] == "reason: at most 2000 characters (24000 given)"


def test_encoding_lone_surrogates_are_refused_not_crashed(live: LiveServer) -> None:
    """A password with a lone UTF-16 surrogate crashed hashing (UTF-8 cannot hold it)."""
    create_user = ('mutation($p: String!) { createUser(login: "wang.fang", password: $p, '
                   "role: READER) { login } }")
    with probing(live.url) as probe:
        r1 = live.client.post("/graphql", content=(
            '{"query": ' + json.dumps(create_user) + ', "variables": {"p": '
            '"abcdefgh\\ud800"}}').encode(),
            headers={"content-type": "application/json", "accept": GQL})
        r2 = gql_raw(live, 'mutation { createUser(login: "wang.fang", '
                     'password: "abcdefgh\\uD800", role: READER) { login } }')
        r3 = httpx.post(f"{live.url}/login", content=b"login=wang.fang&password=%ED%A0%80x",
                        headers={"content-type": "application/x-www-form-urlencoded"})
        r4 = live.client.post("/graphql", content=b'{"query": "{ __typename }", "x": "\xff"}',
                              headers={"content-type": "application/json", "accept": GQL})
    probe.assert_responsive()
    refused(r1, 400, "BAD_JSON", "no low surrogate")
    refused(r2, 400, "GRAPHQL_PARSE_FAILED", "Invalid Unicode escape sequence")
    assert r3.status_code in (401, 403), r3.text[:200]
    refused(r4, 400, "BAD_JSON", "not valid JSON")
    assert live.ok("{ users { login } }")["users"] == []


def test_identifiers_that_break_urls_are_refused_everywhere_they_enter(
        live: LiveServer) -> None:
    """`../../graphql` was accepted as an asset tag; its "seen here" form then posted to
    /graphql/seen."""
    create = ('mutation($t: String) { createCI(input: {class: "Server", name: "x", '
              "assetTag: $t}) { id } }")
    with probing(live.url) as probe:
        bad = [gql_raw(live, create, {"t": t})
               for t in ("../../graphql", "a/b", "tab\there", " ZC-1", "ZC-1\n")]
        sighting = gql_raw(live, 'mutation { recordSighting(input: {assetTag: "../x", '
                                 'place: "北京总部"}) { duplicate } }')
    probe.assert_responsive()
    for r in bad[:3]:
        error = r.json()["errors"][0]
        assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "asset_tag"}, error
    assert "'..'" in bad[0].json()["errors"][0]["message"]
    assert "not '/'" in bad[1].json()["errors"][0]["message"]
    assert "U+0009" in bad[2].json()["errors"][0]["message"]
    assert "errors" not in bad[3].json()  # spaces around a tag are trimmed, as before
    assert bad[4].json()["errors"][0]["extensions"]["code"] == "DUPLICATE"
    error = sighting.json()["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    assert error["extensions"]["field"] == "asset_tag"
    assert "'..'" in error["message"]


def test_reserved_fields_are_refused_by_name(live: LiveServer) -> None:
    """An editor could write last_audited_at through updateCI, forging audit evidence."""
    ci = live.ok('mutation { createCI(input: {class: "Server", name: "s"}) { id } }')
    update = ('mutation($id: ID!, $a: JSON!) { updateCI(id: $id, expectedVersion: 1, '
              "input: {attributes: $a}) { id } }")
    with probing(live.url) as probe:
        forged = [live.client.post("/graphql", json={"query": update, "variables": {
            "id": ci["createCI"]["id"], "a": {name: "2026-07-06T14:30:00+08:00"}}}).json()
            for name in ("last_audited_at", "label_printed_at", "last_seen_nmap")]
    probe.assert_responsive()
    for body, name in zip(forged, ("last_audited_at", "label_printed_at", "last_seen_nmap"),
                          strict=True):
        error = body["errors"][0]
        assert error["extensions"] == {"code": "RESERVED_FIELD", "field": name}
        assert error["message"].startswith(f"{name} is kept by the CMDB itself")
    version = live.ok("query($id: ID!) { ci(id: $id) { version } }",
                      {"id": ci["createCI"]["id"]})["ci"]["version"]
    assert version == 1


def test_uploads_that_expand_or_hide_their_length_are_cut_off(
        live: LiveServer, tmp_path: Path) -> None:
    """A 146 KB workbook whose shared strings unpack to 90 MB, and a chunked upload with
    no Content-Length that goes on past the bound."""
    bomb = shared_strings_bomb(tmp_path / "bomb.xlsx").read_bytes()
    limit = 20_000_000
    boundary = "cmdbboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n').encode()

    def chunks() -> Iterator[bytes]:
        yield head
        sent = 0
        while sent <= limit + 1_000_000:
            yield b"A-1,x\n" * 50_000
            sent += 300_000
        yield f"\r\n--{boundary}--\r\n".encode()

    with probing(live.url) as probe:
        started = time.perf_counter()
        r1 = live.client.post("/imports/xlsx", files={"file": ("bomb.xlsx", bomb)})
        elapsed = time.perf_counter() - started
        r2 = live.client.post("/imports/csv", content=chunks(), headers={
            "content-type": f"multipart/form-data; boundary={boundary}"})
    probe.assert_responsive()
    assert r1.status_code == 422, r1.text
    assert r1.json()["code"] == "IMPORT_TOO_LARGE"
    assert "xl/sharedStrings.xml unpacks to 90066182 bytes" in r1.json()["message"]
    assert elapsed < 5
    assert r2.status_code == 413, r2.text[:300]
    assert r2.json()["code"] == "LIMIT_EXCEEDED"
    assert "20000000 bytes" in r2.json()["message"]


def test_a_report_of_an_unknown_campaign_is_404(live: LiveServer) -> None:
    with probing(live.url) as probe:
        pdf = live.client.get("/campaigns/no-such-campaign/report.pdf")
        csv = live.client.get("/campaigns/no-such-campaign/report.csv")
    probe.assert_responsive()
    for r in (pdf, csv):
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "NOT_FOUND"
        assert "no-such-campaign" in r.json()["message"]


def test_sizes_a_body_over_the_bound_is_cut_off_with_or_without_a_length(
        live: LiveServer) -> None:
    """The live server takes bodies of 200,000 bytes: a 2 MB one is refused whether it
    declares its length or streams chunked without one."""
    big = {"query": "query($v: String) { __typename }", "variables": {"v": "x" * 2_000_000}}
    payload = json.dumps(big).encode()

    def chunked() -> Iterator[bytes]:
        for i in range(0, len(payload), 65_536):
            yield payload[i:i + 65_536]

    with probing(live.url) as probe:
        declared = live.client.post("/graphql", content=payload, headers={
            "content-type": "application/json", "accept": GQL})
        streamed = live.client.post("/graphql", content=chunked(), headers={
            "content-type": "application/json", "accept": GQL})
        labels = live.client.post("/labels", content=chunked(), headers={
            "content-type": "application/json"})
    probe.assert_responsive()
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    refused(declared, 413, "LIMIT_EXCEEDED", "larger than 200000 bytes")
    refused(streamed, 413, "LIMIT_EXCEEDED", "larger than 200000 bytes")
    assert labels.status_code == 400, labels.text[:200]
    assert labels.json()["code"] == "LIMIT_EXCEEDED"
