"""The impact picture in Chromium, authentication on: a reader signs in through /login,
reads the picture of the demo estate's core switch, opens a group, moves the depth
control, clicks a node and lands on that CI's page; no request leaves the app and the
CSP is never violated.

Run with ``CMDB_SCREENSHOTS=docs/screenshots`` to refresh the README's screenshot.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Request

from cmdb.model.access import Role
from cmdb.settings import Settings
from tests.api.browser import sign_in
from tests.api.conftest import LiveServer, make_user, run_server
from tests.api.pages.test_impact import PASSWORD, READER, ci_id, demo


@pytest.fixture
def estate(tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'impact.sqlite3'}",
                        time_zone="Asia/Shanghai")
    demo(settings)
    make_user(settings, READER, PASSWORD, Role.READER)
    yield from run_server(settings)


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "width"), [("zh-CN", 1280), ("en", 390)])
def test_a_reader_clicks_through_the_picture(estate: LiveServer, browser: Browser,
                                             tmp_path: Path, lang: str, width: int) -> None:
    live = estate
    switch, bank = ci_id(live, "BJ-CORE-SW1"), ci_id(live, "网上银行 Online banking")
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=lang,
                                  extra_http_headers={"Accept-Language": lang})
    page = context.new_page()
    hosts: list[str] = []
    csp: list[str] = []

    def seen(request: Request) -> None:
        hosts.append(urlsplit(request.url).netloc)

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            csp.append(message.text)

    page.on("request", seen)
    page.on("console", console)
    sign_in(page, live.url, READER, PASSWORD, f"/cis/{switch}/impact")
    assert page.url == f"{live.url}/cis/{switch}/impact"
    picture = page.locator("#impact-picture")
    assert picture.is_visible()
    assert "BJ-CORE-SW1" in page.inner_text("#impact-title")
    service = page.locator(f'#impact-picture a[data-key="{bank}"]')
    assert service.get_attribute("href") == f"/cis/{bank}"
    assert "service" in (service.get_attribute("class") or "")
    shots = Path(os.environ.get("CMDB_SCREENSHOTS") or tmp_path)
    if lang == "zh-CN":
        page.screenshot(path=str(shots / "impact-page.png"))
        page.set_viewport_size({"width": 2700, "height": 900})
        picture.screenshot(path=str(shots / "impact-picture.png"))
        page.set_viewport_size({"width": width, "height": 900})

    # open the servers' group: its CIs are drawn one by one
    group = page.locator("#impact-picture a.group", has_text="服务器" if lang == "zh-CN"
                         else "Server")
    with page.expect_navigation():
        group.first.click()
    assert "expand=Server" in page.url
    assert page.locator("#impact-picture a.node", has_text="bj-srv-0101").count() == 1

    # the depth control: a GET form, the list follows
    page.fill("#depth", "2")
    with page.expect_navigation():
        page.click("#impact-depth-form [type=submit]")
    assert "depth=2" in page.url
    depths = {int(t) for t in page.locator("#impact-list tbody td:nth-child(2)").all_inner_texts()}
    assert depths == {1, 2}

    # a click on a node opens its CI's page
    page.goto(f"{live.url}/cis/{switch}/impact")
    with page.expect_navigation():
        page.locator(f'#impact-picture a[data-key="{bank}"]').click()
    assert page.url == f"{live.url}/cis/{bank}"

    assert set(hosts) == {urlsplit(live.url).netloc}, sorted(set(hosts))
    assert csp == []
    context.close()
