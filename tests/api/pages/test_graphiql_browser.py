"""GraphiQL renders and runs a query in headless Chromium, with no network but loopback."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route

from tests.api.conftest import LiveServer


@pytest.mark.browser
def test_graphiql_runs_a_query_offline(live: LiveServer, browser: Browser,
                                       tmp_path: Path) -> None:
    live.ok('mutation { createCI(input: {class: "Server", name: "浏览器测试 browser-01"}) { id } }')
    outside: list[str] = []

    def only_loopback(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page = browser.new_page(extra_http_headers=live.auth_headers)
    page.route("**/*", only_loopback)
    page.goto(f"{live.url}/graphql")
    page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
    page.click(".graphiql-execute-button")
    page.wait_for_function(
        "() => document.querySelector('.result-window')?.innerText.includes('browser-01')",
        timeout=30_000,
    )
    result = page.inner_text(".result-window")
    assert '"totalCount": 1' in result
    assert "浏览器测试 browser-01" in result
    page.screenshot(path=str(tmp_path / "graphiql.png"))
    assert outside == [], f"GraphiQL tried to reach the internet: {outside}"
