"""Authentication over real HTTP: bearer tokens, the sign-in page and its cookie, demo mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from cmdb.model.records import Doc, now
from cmdb.services.access.records import StoredToken
from cmdb.services.access.secrets import new_token, token_hash
from cmdb.settings import Settings
from cmdb.store.base import StoreTx
from tests.api.conftest import LiveServer, run_server
from tests.api.signin import session_token, sign_in

ME = "{ me { name role kind } }"
HTML = {"Accept": "text/html,application/xhtml+xml"}


def anonymous(live: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live.url, timeout=30)


def codes(r: httpx.Response) -> set[str]:
    return {e["extensions"]["code"] for e in r.json().get("errors", [])}


def test_requests_without_a_good_token_are_401(live: LiveServer) -> None:
    with anonymous(live) as c:
        for headers in ({}, {"Authorization": "Bearer nonsense"},
                        {"Authorization": f"Bearer {new_token()}"},
                        {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
            r = c.post("/graphql", json={"query": ME}, headers=headers)
            assert r.status_code == 401, headers
            assert codes(r) == {"UNAUTHENTICATED"}
            assert r.headers["www-authenticate"].startswith("Bearer")
        label = c.get("/labels/ZC-1.png")
        assert label.status_code == 401
        assert label.json()["code"] == "UNAUTHENTICATED"
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        assert c.get("/metrics").status_code == 401


def test_token_lifecycle_through_graphql(live: LiveServer) -> None:
    made = live.ok("""mutation { createToken(name: "inventory-bot", role: EDITOR,
                      expiresInDays: 30) { token apiToken { id name role prefix active
                      expiresAt lastUsedAt } } }""")["createToken"]
    secret, record = made["token"], made["apiToken"]
    assert secret.startswith("cmdb_")
    assert len(secret) == 48
    assert record["prefix"] == secret[:9]
    assert record["active"]
    assert record["lastUsedAt"] is None
    with anonymous(live) as c:
        c.headers["Authorization"] = f"Bearer {secret}"
        r = c.post("/graphql", json={"query": ME})
        assert r.json()["data"]["me"] == {"name": "inventory-bot", "role": "EDITOR",
                                          "kind": "token"}
        created = c.post("/graphql", json={
            "query": 'mutation { createCI(input: {class: "Room", name: "机房"}) { id } }'})
        ci_id = created.json()["data"]["createCI"]["id"]
        listed = live.ok("{ tokens { name lastUsedAt } }")["tokens"]
        assert {t["name"] for t in listed} == {"inventory-bot", "tests-admin"}
        assert next(t for t in listed if t["name"] == "inventory-bot")["lastUsedAt"]
        revoked = live.ok("mutation($id: ID!) { revokeToken(id: $id) { active revokedAt } }",
                          {"id": record["id"]})["revokeToken"]
        assert revoked["active"] is False
        r = c.post("/graphql", json={"query": ME})
        assert r.status_code == 401
        assert "revoked" in r.json()["errors"][0]["message"]
    history = live.ok("query($id: ID!) { ci(id: $id) { history { nodes { actor } } } }",
                      {"id": ci_id})["ci"]["history"]["nodes"]
    assert history == [{"actor": "inventory-bot"}]
    assert live.ok("{ tokens { name } }")["tokens"] == [{"name": "tests-admin"}]
    assert len(live.ok("{ tokens(includeRevoked: true) { name } }")["tokens"]) == 2
    duplicate = live.error('mutation { createToken(name: "tests-admin", role: READER) '
                           '{ token } }')
    assert duplicate["extensions"]["code"] == "DUPLICATE"


async def test_tokens_are_stored_hashed_and_expire(live: LiveServer) -> None:
    store = live.app.state.cmdb.store
    docs = (await store.find_docs(StoredToken.KIND)).items
    assert live.token is not None
    assert [d.key for d in docs] == [token_hash(live.token)]
    assert live.token not in repr([d.model_dump() for d in docs])
    old = new_token()

    async def put(tx: StoreTx) -> None:
        await tx.put_docs([Doc(kind=StoredToken.KIND, key=token_hash(old), data={
            "name": "old", "role": "reader",
            "expires_at": (now() - timedelta(minutes=1)).isoformat()})])

    await store.write(put)
    with anonymous(live) as c:
        r = c.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401
    assert "expired" in r.json()["errors"][0]["message"]


def test_pages_send_a_browser_to_the_login_page(live: LiveServer) -> None:
    with anonymous(live) as c:
        for path, target in (("/graphql", "%2Fgraphql"), ("/a/ZC-1?lang=en", "%2Fa%2FZC-1%3F")):
            r = c.get(path, headers=HTML)
            assert r.status_code == 303
            assert r.headers["location"].startswith(f"/login?next={target}")
        for lang, words in (("zh-CN", ("登录", "用户名", "密码")), ("en", ("Sign in", "Password"))):
            page = c.get(f"/login?lang={lang}")
            assert page.status_code == 200
            assert all(w in page.text for w in words), lang


def test_sign_in_sets_a_cookie_that_works_until_the_user_is_disabled(live: LiveServer) -> None:
    live.ok('mutation { createUser(login: "zhang.wei", password: "correct horse 1", '
            'role: AUDITOR) { login } }')
    with anonymous(live) as c:
        bad = sign_in(c, "zhang.wei", "wrong password")
        assert bad.status_code == 401
        assert "Wrong login or password" in bad.text
        assert "set-cookie" not in bad.headers
        unknown = sign_in(c, "nobody", "wrong password")
        assert unknown.status_code == 401
        good = sign_in(c, "zhang.wei", "correct horse 1", "/a/ZC-1")
        assert good.status_code == 303
        assert good.headers["location"] == "/a/ZC-1"
        cookie = good.headers.get_list("set-cookie")[0]
        assert cookie.startswith("cmdb_session=")
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        csrf = {"X-CSRF-Token": session_token(c)}
        me = c.post("/graphql", json={"query": ME}, headers=csrf)
        assert me.json()["data"]["me"] == {"name": "zhang.wei", "role": "AUDITOR",
                                           "kind": "user"}
        assert c.get("/graphql", params={"query": ME}).json()["data"]["me"]["kind"] == "user"
        assert c.get("/a/ZC-1", headers=HTML).status_code == 404  # signed in: the real page
        no_token = c.post("/graphql", json={"query": ME})
        assert no_token.status_code == 403
        assert "CSRF token" in no_token.json()["errors"][0]["message"]
        cross_site = c.post("/graphql", json={"query": ME},
                            headers={"Origin": "https://evil.example", **csrf})
        assert cross_site.status_code == 403
        assert sign_in(c, "zhang.wei", "correct horse 1", "//evil.example/x").headers[
            "location"] == "/graphql"
        csrf = {"X-CSRF-Token": session_token(c)}
        live.ok('mutation { disableUser(login: "zhang.wei") { disabled } }')
        after = c.post("/graphql", json={"query": ME}, headers=csrf)
        assert after.status_code == 401
        assert sign_in(c, "zhang.wei", "correct horse 1").status_code == 401
        users = live.ok("{ users { login role disabled lastSignInAt } }")["users"]
        assert users[0]["disabled"] is True
        assert users[0]["lastSignInAt"]


def test_a_forged_or_tampered_cookie_is_ignored(live: LiveServer) -> None:
    with anonymous(live) as c:
        for value in ("x", "eyJ1IjoiMSIsImUiOjk5OTk5OTk5OTl9.AAAA", "a.b.c"):
            c.cookies.set("cmdb_session", value)
            assert c.post("/graphql", json={"query": ME}).status_code == 401


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[LiveServer]:
    yield from run_server(Settings(store_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
                                   auth="none"))


async def test_demo_mode_needs_no_token_on_loopback_only(demo: LiveServer) -> None:
    assert demo.token is None
    assert demo.ok(ME)["me"] == {"name": "local", "role": "ADMIN", "kind": "local"}
    assert demo.client.get("/login", follow_redirects=False).status_code == 303
    transport = httpx.ASGITransport(app=demo.app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://cmdb") as outside:
        r = await outside.post("/graphql", json={"query": ME})
    assert r.status_code == 403
    assert "loopback" in r.json()["errors"][0]["message"]
