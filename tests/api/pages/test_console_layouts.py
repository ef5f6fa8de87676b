"""Every console page in Chromium, signed in, in both languages, at phone and desk
widths: it answers, speaks the language asked for, fits a phone's width, breaks no
rule of the CSP and asks no other host for anything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Route, ViewportSize

from tests.api.browser import sign_in
from tests.api.conftest import LiveServer
from tests.api.label_estate import Estate, label_server, seed
from tests.api.pages.test_cis import PASSWORD, READER
from tests.api.pages.test_lists import REGISTER, plan
from tests.api.test_audit_end_to_end import upload

WIDTHS: dict[str, ViewportSize] = {"phone": {"width": 390, "height": 844},
                                   "desk": {"width": 1280, "height": 900}}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    yield from label_server(tmp_path)


@pytest.fixture
def estate(live: LiveServer) -> Estate:
    live.ok("mutation($p: String!) { createUser(login: \"zhou.min\", password: $p, "
            "role: READER) { login } }", {"p": PASSWORD})
    return seed(live)


@pytest.mark.browser
@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_console_page_in_both_languages_at_both_widths(
        live: LiveServer, estate: Estate, browser: Browser, language: str,
        width: str) -> None:
    run = upload(live, "csv", REGISTER, createPlaces="true", applyValidOnly="true")
    change = plan(live, "核心交换机升级", estate.rack, datetime.now(UTC) + timedelta(days=2))
    paths = ["/", "/cis", "/cis?q=bj-srv&sort=updated", f"/cis/{estate.server}",
             f"/cis/{estate.laptop}", f"/cis/{estate.server}/impact",
             f"/cis/{estate.server}/dependencies", "/campaigns", "/imports",
             f"/imports/{run['id']}", "/changes", f"/changes/{change}/impact"]
    context = browser.new_context(viewport=WIDTHS[width], locale=language,
                                  extra_http_headers={"Accept-Language": language})
    outside: list[str] = []
    refused: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    def csp(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page = context.new_page()
    page.route("**/*", only_loopback)
    page.on("console", csp)
    sign_in(page, live.url, READER, PASSWORD, "/")
    for path in paths:
        response = page.goto(f"{live.url}{path}")
        assert response is not None
        assert response.status == 200, (path, response.status)
        assert page.locator("html").get_attribute("lang") == language, path
        if width == "phone":
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways on a phone ({overflow} px)"
    assert refused == []
    assert outside == []
    context.close()
