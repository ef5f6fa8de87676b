"""The role matrix, generated from the built schema and the app's routes.

Every Mutation field must have a declared role (``cmdb.api.web.permissions.REQUIRED_ROLE``),
and over real HTTP each role's token must reach exactly the mutations its role
allows: the others answer 403 FORBIDDEN, no token answers 401 UNAUTHENTICATED. A
mutation added later fails here until it is declared. Calls carry no variables, so
an allowed call stops at variable checking and changes nothing.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import GraphQLField, GraphQLObjectType, Undefined, get_named_type, is_non_null_type
from starlette.routing import Route

from cmdb.api.graphql.schema import build_schema
from cmdb.api.web import permissions
from cmdb.model.access import Role, roles_allowed
from tests.api.conftest import LiveServer

DENIED = {"FORBIDDEN", "UNAUTHENTICATED"}


def mutation_fields() -> dict[str, GraphQLField]:
    mutation = build_schema()._schema.mutation_type
    assert isinstance(mutation, GraphQLObjectType)
    return dict(mutation.fields)


def call(name: str, field: GraphQLField) -> str:
    """A mutation document calling ``name`` with every required argument as a variable."""
    required = {a: arg for a, arg in field.args.items()
                if is_non_null_type(arg.type) and arg.default_value is Undefined}
    declared = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
    passed = ", ".join(f"{a}: ${a}" for a in required)
    selection = "" if not hasattr(get_named_type(field.type), "fields") else " { __typename }"
    return (f"mutation{f'({declared})' if declared else ''} "
            f"{{ {name}{f'({passed})' if passed else ''}{selection} }}")


def role_tokens(live: LiveServer) -> dict[Role, str]:
    tokens = {}
    for role in Role:
        data = live.ok("mutation($n: String!, $r: Role!) { createToken(name: $n, role: $r) "
                       "{ token apiToken { role } } }", {"n": f"matrix-{role.value}",
                                                         "r": role.name})
        assert data["createToken"]["apiToken"]["role"] == role.name
        tokens[role] = data["createToken"]["token"]
    return tokens


def codes(response: httpx.Response) -> set[str]:
    body: dict[str, Any] = response.json()
    return {e["extensions"]["code"] for e in body.get("errors", [])}


def test_every_mutation_declares_a_role() -> None:
    missing = sorted(set(mutation_fields()) - set(permissions.REQUIRED_ROLE))
    assert not missing, (
        f"declare a role in cmdb/api/web/permissions.py REQUIRED_ROLE for {missing}")


def test_mutation_matrix_over_http(live: LiveServer) -> None:
    tokens = role_tokens(live)
    checked = 0
    for name, field in sorted(mutation_fields().items()):
        need = permissions.REQUIRED_ROLE.get(name)
        assert need is not None, f"{name} has no role in permissions.REQUIRED_ROLE"
        query = call(name, field)
        anonymous = httpx.post(f"{live.url}/graphql", json={"query": query})
        assert anonymous.status_code == 401, name
        assert codes(anonymous) == {"UNAUTHENTICATED"}, name
        for role, token in tokens.items():
            r = live.client.post("/graphql", json={"query": query},
                                 headers={"Authorization": f"Bearer {token}"})
            if role in roles_allowed(need):
                assert r.status_code != 403, (name, role, r.text)
                assert not codes(r) & DENIED, (name, role, r.text)
            else:
                assert r.status_code == 403, (name, role, r.text)
                assert codes(r) == {"FORBIDDEN"}, (name, role, r.text)
            checked += 1
    assert checked == len(mutation_fields()) * len(Role)


def test_an_undeclared_mutation_is_refused_even_to_admins(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(permissions.REQUIRED_ROLE, "createCI")
    r = live.client.post("/graphql", json={
        "query": 'mutation { createCI(input: {class: "Room", name: "x"}) { id } }'})
    assert r.status_code == 403
    assert codes(r) == {"FORBIDDEN"}
    assert "has no declared role" in r.json()["errors"][0]["message"]
    assert live.ok("{ cis { totalCount } }")["cis"]["totalCount"] == 0


def test_queries_need_reader_and_access_queries_need_admin(live: LiveServer) -> None:
    tokens = role_tokens(live)
    query_type = build_schema()._schema.query_type
    assert query_type is not None
    for name in permissions.QUERY_ROLE:
        assert name in query_type.fields, f"QUERY_ROLE names a query that does not exist: {name}"
    for role, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        r = live.client.post("/graphql", headers=headers, json={
            "query": "{ cis { totalCount } ciClasses { name } me { name role kind } }"})
        assert r.status_code == 200, (role, r.text)
        assert "errors" not in r.json(), (role, r.text)
        assert r.json()["data"]["me"] == {"name": f"matrix-{role.value}", "role": role.name,
                                          "kind": "token"}
        for name in ("tokens", "users"):
            r = live.client.post("/graphql", headers=headers,
                                 json={"query": f"{{ {name} {{ id }} }}"})
            assert (r.status_code == 200) == (role is Role.ADMIN), (name, role, r.text)
        # hiding an admin field in a fragment does not get past the check
        r = live.client.post("/graphql", headers=headers, json={
            "query": "query { ...F } fragment F on Query { tokens { id } }"})
        assert (r.status_code == 200) == (role is Role.ADMIN), (role, r.text)


def write_routes(live: LiveServer) -> list[tuple[str, str]]:
    """Every (method, path) of the app that is not a read, with path parameters filled in."""
    out = []
    for route in live.app.routes:
        if not isinstance(route, Route) or route.path in ("/login", "/logout", "/graphql"):
            continue
        for method in sorted((route.methods or set()) - {"GET", "HEAD"}):
            out.append((method, route.path.replace("{", "").replace("}", "").replace(
                ":path", "")))
    return out


def test_http_write_endpoints_need_their_role(live: LiveServer) -> None:
    tokens = role_tokens(live)
    routes = write_routes(live)
    assert ("POST", "/labels") in routes
    for method, path in routes:
        need = permissions.http_role(method, path)
        assert any(path == p or path.startswith(p + "/") for p in permissions.HTTP_ROLE), (
            f"declare the role {method} {path} needs in permissions.HTTP_ROLE")
        anonymous = httpx.request(method, f"{live.url}{path}", json={})
        assert anonymous.status_code == 401, (method, path)
        for role, token in tokens.items():
            r = live.client.request(method, path, json={},
                                    headers={"Authorization": f"Bearer {token}"})
            if role in roles_allowed(need):
                assert r.status_code not in (401, 403), (method, path, role, r.text)
            else:
                assert r.status_code == 403, (method, path, role, r.text)
                assert r.json()["code"] == "FORBIDDEN"


CONSOLE_PAGES = ("/", "/cis", "/cis?q=x&class=Server&sort=updated", "/campaigns",
                 "/imports", "/changes", "/cis/export")


def test_every_role_reads_the_console_and_no_one_unsigned(live: LiveServer) -> None:
    """The console's pages are for every signed-in role (a reader may read all of it);
    signed out, a browser is sent to sign in and other clients get 401."""
    tokens = role_tokens(live)
    for path in CONSOLE_PAGES:
        assert httpx.get(f"{live.url}{path}").status_code == 401, path
        browser = httpx.get(f"{live.url}{path}", headers={"Accept": "text/html"})
        assert browser.status_code == 303, path
        assert browser.headers["location"].startswith("/login?next="), path
        for role, token in tokens.items():
            r = live.client.get(path, headers={"Authorization": f"Bearer {token}",
                                               "Accept": "text/html"})
            assert r.status_code == 200, (path, role, r.text[:300])
