"""The console's landing page: signed in, the register in numbers by class and by state
(each linking to its list), and a search box that finds a CI by a piece of its name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from tests.api.browser import screenshot
from tests.api.conftest import LiveServer
from tests.api.label_estate import Estate, label_server, seed
from tests.api.pages.test_cis import PASSWORD, READER, person
from tests.api.signin import HTML


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    yield from label_server(tmp_path)


@pytest.fixture
def estate(live: LiveServer) -> Estate:
    live.ok("mutation($p: String!) { createUser(login: \"zhou.min\", password: $p, "
            "role: READER) { login } }", {"p": PASSWORD})
    return seed(live)


def test_signed_out_the_landing_page_sends_a_browser_to_sign_in(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as anonymous:
        page = anonymous.get("/", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_register_in_numbers_and_a_search(live: LiveServer, estate: Estate,
                                              browser: Browser, language: str,
                                              tmp_path: Path) -> None:
    outside: list[str] = []
    page = person(browser, live, READER, PASSWORD, language, outside)
    page.goto(f"{live.url}/")
    total = live.ok("{ cis(first: 1) { totalCount } }")["cis"]["totalCount"]
    assert page.inner_text("#total") == str(total)
    by_class = page.inner_text("#by-class")
    assert ("服务器" if language == "zh-CN" else "Server") in by_class
    by_state = page.inner_text("#by-state")
    assert ("在用" if language == "zh-CN" else "Deployed") in by_state
    screenshot(page, tmp_path, f"console-home-{language}.png")
    page.click("#by-class a >> text=" + ("笔记本电脑" if language == "zh-CN" else "Laptop"))
    page.wait_for_url("**/cis?class=Laptop**")
    assert page.locator("#ci-results tbody tr").count() == 1
    page.goto(f"{live.url}/")
    page.fill("#home-search input[name=q]", "bj-srv")
    with page.expect_navigation():
        page.click("#home-search-button")
    assert page.inner_text("#ci-name") == "bj-srv-0042"  # one match: its page
    assert outside == []
    page.context.close()


def test_demo_mode_opens_the_console_without_sign_in(tmp_path: Path) -> None:
    """Demo mode (``--no-auth``, loopback only): the console opens at once, and its edit
    forms are there (the local demo user is an admin)."""
    from cmdb.settings import Settings
    from tests.api.conftest import run_server

    settings = Settings(store_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}", auth="none")
    for live in run_server(settings):
        ci = live.ok('mutation { createCI(input: {class: "Server", name: "演示服务器"}) '
                     "{ id } }")["createCI"]["id"]
        home = httpx.get(f"{live.url}/", headers=HTML)
        assert home.status_code == 200
        assert 'id="total"' in home.text
        page = httpx.get(f"{live.url}/cis/{ci}", headers=HTML)
        assert page.status_code == 200
        assert 'id="edit-form"' in page.text
