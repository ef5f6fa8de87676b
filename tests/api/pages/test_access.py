"""Signing in from a browser: GraphiQL sends a stranger to /login, then works on the cookie."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.api.conftest import LiveServer


@pytest.mark.browser
def test_sign_in_then_graphiql_runs_a_query(live: LiveServer, browser: Browser,
                                            tmp_path: Path) -> None:
    live.ok('mutation { createUser(login: "wang.fang", password: "一个好密码 pass", '
            'role: READER) { login } }')
    live.ok('mutation { createCI(input: {class: "Server", name: "登录后 signed-in-01"}) { id } }')
    context = browser.new_context(locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.goto(f"{live.url}/graphql")
    assert "/login?next=%2Fgraphql" in page.url
    assert page.inner_text("#login-title") == "登录"
    page.fill("#login", "wang.fang")
    page.fill("#password", "wrong")
    page.click("#sign-in")
    assert "用户名或密码错误" in page.inner_text("#login-error")
    page.screenshot(path=str(tmp_path / "login-error.png"))
    page.fill("#password", "一个好密码 pass")
    page.click("#sign-in")
    page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
    assert page.url == f"{live.url}/graphql"
    cookie = next(c for c in context.cookies() if c["name"] == "cmdb_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "() => document.querySelector('.result-window')?.innerText.includes('signed-in-01')",
        timeout=30_000)
    context.close()
