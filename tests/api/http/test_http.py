"""GraphQL over HTTP: methods, media types, status codes, limits, health, GraphiQL assets."""

from __future__ import annotations

import re

import httpx
import pytest

from cmdb.api.app import STATIC
from tests.api.conftest import LiveServer

GQL = "application/graphql-response+json"


def test_get_runs_queries_and_refuses_mutations(live: LiveServer) -> None:
    r = live.client.get("/graphql", params={"query": "{ ciClasses { name } }"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert "ciClasses" in r.json()["data"]
    r = live.client.get("/graphql", params={
        "query": 'mutation { createCI(input: {class: "Room", name: "x"}) { id } }'})
    assert r.status_code == 405
    assert "POST" in r.headers["allow"]
    assert live.ok("{ cis { totalCount } }")["cis"]["totalCount"] == 0


@pytest.mark.parametrize(("accept", "media"), [
    (GQL, GQL), ("application/json", "application/json"), (None, "application/json"),
    ("*/*", "application/json"), (f"application/json;q=0.5, {GQL}", GQL),
])
def test_media_type_follows_accept(live: LiveServer, accept: str | None, media: str) -> None:
    headers = {"accept": accept} if accept else {}
    r = live.client.post("/graphql", json={"query": "{ cis { totalCount } }"}, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == f"{media}; charset=utf-8"


def test_unacceptable_accept_is_406(live: LiveServer) -> None:
    r = live.client.post("/graphql", json={"query": "{ __typename }"},
                         headers={"accept": "image/png"})
    assert r.status_code == 406


@pytest.mark.parametrize(("body", "content_type", "status", "code"), [
    (b"{not json", "application/json", 400, "BAD_JSON"),
    (b'"just a string"', "application/json", 400, "BAD_REQUEST"),
    (b'{"variables": {}}', "application/json", 400, "BAD_REQUEST"),
    (b'{"query": "{ __typename }", "variables": [1]}', "application/json", 400, "BAD_REQUEST"),
    (b"query { __typename }", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
])
def test_malformed_requests(
    live: LiveServer, body: bytes, content_type: str, status: int, code: str
) -> None:
    r = live.client.post("/graphql", content=body,
                         headers={"content-type": content_type, "accept": GQL})
    assert r.status_code == status
    assert r.json()["errors"][0]["extensions"]["code"] == code
    assert "data" not in r.json()


def test_request_errors_with_graphql_response_json_are_400(live: LiveServer) -> None:
    for query, code in (("{ cis { ", "GRAPHQL_PARSE_FAILED"),
                        ("{ nope }", "GRAPHQL_VALIDATION_FAILED")):
        r = live.client.post("/graphql", json={"query": query}, headers={"accept": GQL})
        assert r.status_code == 400
        assert "data" not in r.json()
        assert r.json()["errors"][0]["extensions"]["code"] == code
        legacy = live.client.post("/graphql", json={"query": query})
        assert legacy.status_code == 200
        assert legacy.json()["errors"]


def test_oversized_body_is_refused_and_nothing_written(live: LiveServer) -> None:
    name = "x" * 300_000
    r = live.client.post("/graphql", json={
        "query": 'mutation($n: String!) { createCI(input: {class: "Room", name: $n}) { id } }',
        "variables": {"n": name}}, headers={"accept": GQL})
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert live.ok("{ cis { totalCount } }")["cis"]["totalCount"] == 0


def test_depth_and_alias_limits(live: LiveServer) -> None:
    deep = "{ cis { edges { node { " + "outgoing { edges { node { to { " * 3 + "name" \
        + " } } } }" * 3 + " } } } }"
    err = live.error(deep)
    assert err["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "deeper" in err["message"]
    many = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"
    err = live.error(many)
    assert err["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "aliases" in err["message"]


def test_health_and_readiness(live: LiveServer) -> None:
    assert live.client.get("/healthz").json() == {"status": "ok"}
    assert live.client.get("/readyz").json() == {"status": "ready", "store": "sqlite"}


def test_graphiql_page_and_assets_are_served_locally(live: LiveServer) -> None:
    r = live.client.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200
    assert "<title>CMDB · GraphiQL</title>" in r.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert sources
    assert all(s.startswith("/static/") for s in sources)
    for s in sources:
        assert live.client.get(s).status_code == 200, s
    for asset in (STATIC / "graphiql").glob("*.css"):
        assert not re.search(r"url\((?!data:)", asset.read_text(encoding="utf-8")), asset


def test_plain_http_errors_for_other_methods(live: LiveServer) -> None:
    r = httpx.put(f"{live.url}/graphql", json={"query": "{ __typename }"},
                  headers=live.auth_headers)
    assert r.status_code == 405
