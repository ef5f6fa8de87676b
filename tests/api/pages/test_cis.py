"""The asset page a label's QR opens: headless Chromium on a phone-sized screen, both languages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, ViewportSize

from cmdb.api.web.html import choose_language, when
from cmdb.model.clock import Clock
from tests.api.browser import screenshot, sign_in
from tests.api.conftest import LiveServer
from tests.api.label_estate import (
    CHINESE_TAG,
    LATIN_TAG,
    ORG,
    PATH,
    Estate,
    create,
    label_server,
    legacy,
    seed,
)
from tests.api.signin import HTML

PHONE: ViewportSize = {"width": 390, "height": 844}
EXPECTED = {
    (LATIN_TAG, "en"): ["bj-srv-0042", "Server", "Deployed", " / ".join(PATH),
                        "基础架构组 Infrastructure", "Dell PowerEdge R750", "CN7BJ0042X",
                        "Last audited", "2025-03-01 09:30",
                        "Times in Asia/Shanghai (UTC+08:00)", "中文"],
    (LATIN_TAG, "zh-CN"): ["bj-srv-0042", "服务器", "在用", " / ".join(PATH), "型号",
                           "最近盘点", "2025-03-01 09:30", "时区：Asia/Shanghai (UTC+08:00)",
                           "English"],
    (CHINESE_TAG, "en"): ["财务部笔记本 张伟", "Laptop", "In stock", " / ".join(PATH[:3]),
                          "财务部", "Lenovo ThinkPad X1 Carbon", "PF3ABC12", "Never audited"],
    (CHINESE_TAG, "zh-CN"): ["财务部笔记本 张伟", "笔记本电脑", "库存", "责任人/部门", "财务部",
                             "联想 ThinkPad X1 Carbon", "序列号", "从未盘点"],
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    yield from label_server(tmp_path)


READER, PASSWORD = "zhou.min", "a phone password 1"


@pytest.fixture
def estate(live: LiveServer) -> Estate:
    live.ok("mutation($p: String!) { createUser(login: \"zhou.min\", password: $p, "
            "role: READER) { login } }", {"p": PASSWORD})
    return seed(live)


def phone(browser: Browser, language: str, outside: list[str], live: LiveServer) -> Page:
    """A phone-sized page whose browser prefers ``language``, reaches only loopback, and
    has signed in through the sign-in page as a person scanning labels would."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale=language,
                                  extra_http_headers={"Accept-Language": f"{language},en;q=0.5"
                                                      if language != "en" else "en-GB,en"})

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page = context.new_page()
    page.route("**/*", only_loopback)
    sign_in(page, live.url, READER, PASSWORD, f"/a/{LATIN_TAG}")
    return page


@pytest.mark.browser
@pytest.mark.parametrize(("tag", "language"), list(EXPECTED))
def test_asset_page_shows_what_a_scan_needs(live: LiveServer, estate: Estate, browser: Browser,
                                            tmp_path: Path, tag: str, language: str) -> None:
    outside: list[str] = []
    page = phone(browser, language, outside, live)
    response = page.goto(f"{live.url}/a/{quote(tag, safe='')}")
    assert response is not None
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == language
    assert page.inner_text("#asset-tag") == tag
    text = page.inner_text("body")
    for expected in [*EXPECTED[(tag, language)], ORG]:
        assert expected in text, f"{expected!r} missing from the page:\n{text}"
    assert "(UTC)" not in text  # times in Beijing time, the zone named once in the footer
    assert page.locator("#time-zone").count() == 1
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the page scrolls sideways on a phone"
    page.screenshot(path=str(tmp_path / f"asset-{language}-{tag}.png"), full_page=True)
    assert outside == [], f"the asset page tried to reach the internet: {outside}"
    page.context.close()


@pytest.mark.browser
def test_language_link_switches_and_unknown_tag_is_friendly(
    live: LiveServer, estate: Estate, browser: Browser, tmp_path: Path
) -> None:
    outside: list[str] = []
    page = phone(browser, "en", outside, live)
    page.goto(f"{live.url}/a/{LATIN_TAG}")
    page.click("text=中文")
    page.wait_for_selector("text=最近盘点")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    for language, title, hint in (("zh-CN", "未找到该资产", "请联系IT资产管理员"),
                                  ("en", "Asset not found", "tell the IT asset team")):
        response = page.goto(f"{live.url}/a/ZC-MISSING-9?lang={language}")
        assert response is not None
        assert response.status == 404
        text = page.inner_text("body")
        assert title in text
        assert hint in text
        assert "ZC-MISSING-9" in text
        page.screenshot(path=str(tmp_path / f"not-found-{language}.png"), full_page=True)
    assert outside == []
    page.context.close()


def test_page_headers_language_and_escaping(live: LiveServer, estate: Estate) -> None:
    # a tag with markup can no longer be registered; one from before must still be safe
    legacy(live, create(live, "Laptop", "<script>alert(1)</script>", assetTag="ZC-B"),
           "ZC-<b>")
    r = live.client.get(f"/a/{quote('ZC-<b>', safe='')}", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200
    assert "<script>alert" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert r.headers["content-language"] == "zh-CN"
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    csp = r.headers["content-security-policy"]
    for rule in ("default-src 'none'", "frame-ancestors 'none'", "form-action 'self'",
                 "base-uri 'none'"):
        assert rule in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "Accept-Language" in r.headers["vary"]
    missing = live.client.get("/a/NOPE", headers={"Accept-Language": "fr-FR, en;q=0.8"})
    assert missing.status_code == 404
    assert missing.headers["content-language"] == "en"


@pytest.mark.parametrize(("header", "override", "expected"), [
    (None, None, "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh-CN"),
    ("zh-TW", None, "zh-CN"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", None, "en"),
    ("fr-FR,zh;q=0.7,en;q=0.5", None, "zh-CN"),
    ("en;q=0.2, zh-CN;q=0.9", None, "zh-CN"),
    ("zh-CN;q=0, en", None, "en"),
    ("zh-CN", "en", "en"),
    ("en", "zh", "zh-CN"),
    ("de", "klingon", "en"),
])
def test_choose_language(header: str | None, override: str | None, expected: str) -> None:
    assert choose_language(header, override) == expected


def test_times_are_shown_in_the_configured_zone() -> None:
    beijing = Clock("Asia/Shanghai")
    assert when("2025-03-01T01:30:00+00:00", beijing) == "2025-03-01 09:30"
    assert when("2025-03-01T09:30:00+08:00", beijing) == "2025-03-01 09:30"
    assert when("2025-03-01T01:30:00-03:30", beijing) == "2025-03-01 13:00"
    assert when("2025-03-01T01:30:00+00:00", Clock("UTC")) == "2025-03-01 01:30"
    assert when(None, beijing) is None


# --------------------------------------------------------------------------------------------
# The console's CI pages: /cis and /cis/{id}

EDITOR, EDITOR_PASSWORD = "li.na", "an editor password 1"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
CONSOLE_WORDS = {"en": ("Configuration items", "Attributes", "History", "Saved."),
                 "zh-CN": ("配置项", "属性", "变更历史", "已保存。")}


def person(browser: Browser, live: LiveServer, login: str, password: str, language: str,
           outside: list[str], viewport: ViewportSize = DESKTOP) -> Page:
    context = browser.new_context(viewport=viewport, locale=language,
                                  extra_http_headers={"Accept-Language": language})

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page = context.new_page()
    page.route("**/*", only_loopback)
    sign_in(page, live.url, login, password, "/cis")
    return page


def saved(page: Page, button: str) -> None:
    """Submit a form with its button and land on the CI page saying it was saved."""
    with page.expect_navigation():
        page.click(button)
    assert page.locator("#message").count() == 1, page.inner_text("body")


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_an_editor_finds_a_ci_edits_it_moves_it_and_relates_it(
        live: LiveServer, estate: Estate, browser: Browser, language: str,
        tmp_path: Path) -> None:
    """Search by a Chinese name fragment, open the CI, change an attribute at the version
    shown, move its state, relate and unrelate it: each saved with its history."""
    live.ok("mutation($p: String!) { createUser(login: \"li.na\", password: $p, "
            "role: EDITOR) { login } }", {"p": EDITOR_PASSWORD})
    outside: list[str] = []
    page = person(browser, live, EDITOR, EDITOR_PASSWORD, language, outside)
    words = CONSOLE_WORDS[language]
    assert words[0] in page.inner_text("body")
    page.fill("input[name=q]", "笔记本")
    page.click("#ci-search-button")
    page.wait_for_url(f"**/cis/{estate.laptop}**")  # one result opens its page directly
    assert page.inner_text("#ci-name") == "财务部笔记本 张伟"
    assert words[1] in page.inner_text("body")
    page.fill("input[name='attr.department']", "财务部 会计科")
    page.fill("#edit-form input[name=reason]", "调岗")
    saved(page, "#edit-save")
    assert page.inner_text("#message") == words[3]
    assert "财务部 会计科" in page.inner_text("#ci-attributes")
    history = page.inner_text("#history")
    for expected in ("li.na", "调岗", "财务部 会计科"):
        assert expected in history
    page.select_option("#state-form select[name=to]", "deployed")
    saved(page, "#state-save")
    assert page.inner_text("#ci-state") in ("Deployed", "在用")
    page.select_option("#relate-form select[name=type]", "OWNED_BY")
    page.fill("#relate-form input[name=target]", estate.team)
    saved(page, "#relate-save")
    assert "基础架构组 Infrastructure" in page.inner_text("#relationships-out")
    screenshot(page, tmp_path, f"console-ci-{language}.png")
    page.select_option("#unrelate-form select[name=relationship]",
                       label=page.locator("#unrelate-form option").filter(
                           has_text="基础架构组").first.inner_text())
    saved(page, "#unrelate-save")
    assert "基础架构组" not in page.inner_text("#relationships-out")
    data = live.ok("query($id: ID!) { ci(id: $id) { state version attributes } }",
                   {"id": estate.laptop})["ci"]
    assert data["state"] == "deployed"
    assert data["attributes"]["department"] == "财务部 会计科"
    assert outside == [], f"the console tried to reach the internet: {outside}"
    page.context.close()


@pytest.mark.browser
def test_a_reader_browses_without_edit_controls_and_cannot_post(
        live: LiveServer, estate: Estate, browser: Browser, tmp_path: Path) -> None:
    outside: list[str] = []
    page = person(browser, live, READER, PASSWORD, "en", outside, PHONE)
    page.goto(f"{live.url}/cis?class=Hardware&sort=asset_tag")
    rows = page.locator("#ci-results tbody tr")
    assert rows.count() >= 3
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the list scrolls sideways on a phone"
    screenshot(page, tmp_path, "console-cis-phone-en.png")
    # the list as a spreadsheet, same filter: a reader may export what they may read
    with page.expect_download() as got:
        page.click("#export-csv")
    sheet = Path(got.value.path()).read_bytes().decode("utf-8-sig")
    names = {row[1] for row in list(csv.reader(io.StringIO(sheet)))[1:]}
    # the hardware (a VM is hardware here), not the places nor the team
    assert names == {"bj-srv-0042", "财务部笔记本 张伟", "vm-untagged", "BJ-R01"}
    page.goto(f"{live.url}/cis/{estate.server}")
    assert page.inner_text("#ci-name") == "bj-srv-0042"
    assert page.locator("#edit-form").count() == 0
    assert page.locator("#unrelate-form, #relate-form, #state-form").count() == 0
    assert "LOCATED_IN" in page.inner_text("#relationships-out")
    # the reader's own session, its own CSRF token: still not an editor
    token = page.evaluate("document.cookie")  # HttpOnly: the session cookie is not visible
    assert "cmdb_session" not in token
    response = page.request.post(f"{live.url}/cis/{estate.server}/state",
                                 form={"to": "retired", "version": "1"})
    assert response.status == 403
    assert live.ok("query($id: ID!) { ci(id: $id) { state } }",
                   {"id": estate.server})["ci"]["state"] == "deployed"
    assert outside == []
    page.context.close()


@pytest.mark.browser
def test_a_stale_version_is_refused_and_nothing_changes(live: LiveServer, estate: Estate,
                                                          browser: Browser) -> None:
    """One editor opens the same CI in two tabs and saves both: the second save, at the
    version both showed, is refused (409, said in the page) and changes nothing."""
    live.ok("mutation($p: String!) { createUser(login: \"li.na\", password: $p, "
            "role: EDITOR) { login } }", {"p": EDITOR_PASSWORD})
    outside: list[str] = []
    first = person(browser, live, EDITOR, EDITOR_PASSWORD, "en", outside)
    first.goto(f"{live.url}/cis/{estate.laptop}")
    second = first.context.new_page()
    second.goto(f"{live.url}/cis/{estate.laptop}")
    first.fill("#edit-form input[name=name]", "财务部笔记本 张伟 (新)")
    saved(first, "#edit-save")
    second.fill("#edit-form input[name=name]", "another name")
    with second.expect_navigation() as done:
        second.click("#edit-save")
    response = done.value
    assert response is not None
    assert response.status == 409
    assert "Changed meanwhile" in second.inner_text("body")
    assert live.ok("query($id: ID!) { ci(id: $id) { name } }",
                   {"id": estate.laptop})["ci"]["name"] == "财务部笔记本 张伟 (新)"
    assert outside == []
    first.context.close()


@pytest.mark.parametrize(("typed", "found"), [
    ("10.20.30.41", "db-01"), ("00-1A-2B-3C-4D-5E", "db-01"), ("001a.2b3c.4d5e", "db-01"),
    ("db-01.bj.example.cn", "db-01"), ("CN7BJ0042X", "bj-srv-0042"),
    ("笔记本", "财务部笔记本 张伟"),
])
def test_the_query_box_finds_a_ci_by_what_people_type(live: LiveServer, estate: Estate,
                                                       typed: str, found: str) -> None:
    """An IP, a MAC in any notation, an FQDN, a serial, a piece of a Chinese name: the one
    CI that matches opens directly; an IP one digit longer is not a match."""
    create(live, "Server", "db-01", state="deployed", attributes={
        "ip_addresses": ["10.20.30.41"], "mac_addresses": ["00:1a:2b:3c:4d:5e"],
        "hostnames": ["db-01"], "fqdn": "db-01.bj.example.cn"})
    page = live.client.get("/cis", params={"q": typed}, headers=HTML,
                           follow_redirects=True)
    assert page.status_code == 200
    assert f'<h1 id="ci-name">{found}</h1>' in page.text, page.text[:2000]
    near = live.client.get("/cis", params={"q": "10.20.30.4"}, headers=HTML)
    assert 'id="no-results"' in near.text or "db-01" not in near.text


def test_hostile_console_queries_are_refused_or_shown_as_text(live: LiveServer,
                                                             estate: Estate) -> None:
    """What people (or scripts) put in the console's query strings: markup comes back as
    text, control characters, an unknown class for the export and overlong text are
    refused with a coded answer, and /healthz stays fast meanwhile."""
    from tests.api.responsive import probing

    with probing(live.url) as probe:
        markup = live.client.get("/cis", params={"q": "<script>alert(1)</script>"},
                                 headers=HTML)
        assert markup.status_code == 200
        assert "<script>alert(1)</script>" not in markup.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup.text
        control = live.client.get("/cis", params={"q": "bj\x00srv"}, headers=HTML)
        assert control.status_code == 400, control.text[:300]
        huge = live.client.get("/cis", params={"q": "机" * 5_000}, headers=HTML)
        assert huge.status_code in (200, 400, 414), huge.status_code
        assert "机" * 1000 not in huge.text  # cut at the box's bound, never echoed whole
        bad_class = live.client.get("/cis/export", params={"class": "<Nope>"})
        assert bad_class.status_code == 400
        assert bad_class.json()["code"] == "UNKNOWN_CLASS"
        stale = live.client.get("/cis/not-an-id", headers=HTML)
        assert stale.status_code == 404
    probe.assert_responsive()
