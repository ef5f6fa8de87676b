"""The production-mode browser suite: authentication on, a real Chromium, every page form.

An auditor and an admin are created in the store before the server starts; each signs
in through ``/login`` and submits every form of the pages as a person does (a click on
the form's button, with whatever the browser itself adds: cookies, ``Origin``, the
referrer policy), and each form's effect is read back from the store. The forms the
suite submits are compared with the ``<form>`` elements of the templates: a form added
to a page fails here until this suite submits it.

The estate is the audit estate (``tests/services/audit_estate``), its scan file recorded
in the open campaign "2026 H2 北京".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request

from cmdb.api.web.html import TEMPLATES
from cmdb.model.access import Role
from cmdb.settings import Settings
from tests.api.browser import sign_in
from tests.api.conftest import LiveServer, make_user, run_server
from tests.api.pages.test_audit import EVIDENCE, FINDINGS, seed

AUDITOR, ADMIN, PASSWORD = "chen.qi", "admin.wang", "盘点 password 7"
FORM_TAG = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
FORM_ID = re.compile(r'\bid="([^"]+)"')


def template_forms() -> set[str]:
    """The id of every ``<form>`` in the page templates (each form must have one)."""
    found: set[str] = set()
    for path in sorted(TEMPLATES.glob("*.html")):
        for tag in FORM_TAG.findall(path.read_text(encoding="utf-8")):
            named = FORM_ID.search(tag)
            assert named, f"{path.name}: give this form an id, and submit it here: {tag}"
            found.add(named.group(1))
    return found


class Person:
    """A browser context that submits forms by clicking, and remembers what it sent."""

    def __init__(self, context: BrowserContext, url: str, submitted: set[str]) -> None:
        self.context = context
        self.url = url
        self.submitted = submitted
        self.posts: list[tuple[str, dict[str, str]]] = []
        self.csp_violations: list[str] = []
        self.page = context.new_page()
        self.page.on("request", self._request)
        self.page.on("console", lambda m: self.csp_violations.append(m.text)
                     if "Content Security Policy" in m.text else None)

    def _request(self, request: Request) -> None:
        if request.method == "POST":
            self.posts.append((request.url, request.all_headers()))

    def submit(self, form_id: str) -> Page:
        """Click the form's submit button and wait for the page it leads to."""
        self.submitted.add(form_id)
        with self.page.expect_navigation():
            self.page.click(f"#{form_id} [type=submit]")
        return self.page

    def sign_in(self, login: str, path: str) -> None:
        sign_in(self.page, self.url, login, PASSWORD, path)
        self.submitted.add("login-form")

    def session_cookie(self) -> str | None:
        return next((c["value"] for c in self.context.cookies()
                     if c["name"] == "cmdb_session"), None)


@pytest.fixture
def prod(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'pages.sqlite3'}",
                        time_zone="Asia/Shanghai")
    campaign_id = seed(settings, tmp_path)
    make_user(settings, AUDITOR, PASSWORD, Role.AUDITOR)
    make_user(settings, ADMIN, PASSWORD, Role.ADMIN)
    for server in run_server(settings):
        yield server, campaign_id


def findings(live: LiveServer, campaign_id: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = live.ok(FINDINGS, {"id": campaign_id})["campaign"][
        "findings"]["nodes"]
    return nodes


def resolved(live: LiveServer, campaign_id: str) -> dict[str, tuple[str, str, str]]:
    data = live.ok("""query($id: ID!) { campaign(id: $id) { findings(first: 100,
        filter: {status: RESOLVED}) { nodes { type assetTag identity
        resolution { how by reason } } } } }""", {"id": campaign_id})
    return {f"{f['type']} {f['assetTag'] or f['identity']}": (
        f["resolution"]["how"], f["resolution"]["by"], f["resolution"]["reason"])
        for f in data["campaign"]["findings"]["nodes"]}


def refused_with_old_cookie(live: LiveServer, cookie: str) -> None:
    with httpx.Client(base_url=live.url, cookies={"cmdb_session": cookie}) as old:
        r = old.post("/graphql", json={"query": "{ me { name } }"})
        assert r.status_code == 401, r.text
        page = old.get("/a/BJ-0001", headers={"Accept": "text/html"})
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=")


@pytest.mark.browser
def test_every_page_form_as_a_person_would(prod: tuple[LiveServer, str], browser: Browser,
                                           tmp_path: Path) -> None:
    live, campaign_id = prod
    submitted: set[str] = set()
    shots = tmp_path / "shots"
    shots.mkdir()

    # The auditor scans BJ-0004's label on a phone: sign in, then "seen here".
    phone = Person(browser.new_context(viewport={"width": 390, "height": 844}, locale="en",
                                       extra_http_headers={"Accept-Language": "en"}),
                   live.url, submitted)
    phone.sign_in(AUDITOR, "/a/BJ-0004")
    assert phone.page.url == f"{live.url}/a/BJ-0004"
    phone.page.select_option("#condition", "damaged")
    phone.page.fill("#note", "front panel cracked <b>")
    phone.page.fill("#seen_at", "2026-07-06T15:20")  # Beijing time, as the browser sends it
    phone.submit("seen-form")
    assert phone.page.inner_text("#audit-message") == "Sighting recorded."
    assert AUDITOR in phone.page.inner_text("#audit-history")
    assert "2026-07-06 15:20" in phone.page.inner_text("#audit-history")
    seen_at = {f["evidence"][-1]["at"] for f in live.ok(EVIDENCE, {"id": campaign_id})[
        "campaign"]["findings"]["nodes"] if f["assetTag"] == "BJ-0004"}
    assert seen_at == {"2026-07-06T07:20:00+00:00"}
    verified = [f for f in findings(live, campaign_id)
                if f["type"] == "VERIFIED" and f["assetTag"] == "BJ-0004"]
    assert verified
    assert {"by": AUDITOR, "source": "page"} in verified[0]["evidence"]
    phone.page.screenshot(path=str(shots / "seen-here.png"), full_page=True)

    # At a desk: resolve one finding, then two at once.
    page = phone.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live.url}/campaigns/{campaign_id}?type=MISPLACED&status=open&lang=en")
    page.check("#findings input[name=finding]")
    page.select_option("select[name=resolution]", "ACCEPT_OBSERVED")
    page.fill("input[name=reason]", "moved in May")
    phone.submit("resolve-form")
    assert page.inner_text("#message") == "Resolved: 1"
    assert resolved(live, campaign_id) == {
        "MISPLACED BJ-0002": ("ACCEPT_OBSERVED", AUDITOR, "moved in May")}
    moved = live.ok('{ ci(assetTag: "BJ-0002") { location { name } } }')
    assert moved["ci"]["location"]["name"] == "A03机柜"

    page.goto(f"{live.url}/campaigns/{campaign_id}?status=open&lang=en")
    boxes = page.locator("#findings input[name=finding]")
    assert boxes.count() == 3, page.inner_text("#findings")  # the phone's "damaged" too
    for i in range(boxes.count()):
        boxes.nth(i).check()
    page.select_option("select[name=resolution]", "KEEP_REGISTERED")
    page.fill("input[name=reason]", "checked with the owner")
    phone.submit("resolve-form")
    assert page.inner_text("#message") == "Resolved: 3"
    kept = ("KEEP_REGISTERED", AUDITOR, "checked with the owner")
    assert resolved(live, campaign_id) == {
        "MISPLACED BJ-0002": ("ACCEPT_OBSERVED", AUDITOR, "moved in May"),
        "ATTRIBUTE_MISMATCH BJ-0002": kept, "ATTRIBUTE_MISMATCH BJ-0004": kept,
        "UNREGISTERED BJ-9999": kept}
    page.screenshot(path=str(shots / "campaign-resolved.png"), full_page=True)

    # Sign out from the foot of a page: the old cookie no longer works anywhere.
    old = phone.session_cookie()
    assert old
    assert page.inner_text("#signed-in-as").endswith(AUDITOR)
    phone.submit("footer-sign-out")
    assert "/login" in page.url
    assert phone.session_cookie() is None
    refused_with_old_cookie(live, old)

    # Sign in again, sign out from /logout.
    phone.sign_in(AUDITOR, "/a/BJ-0001")
    second = phone.session_cookie()
    assert second
    assert second != old
    page.goto(f"{live.url}/logout")
    phone.submit("sign-out-form")
    assert "/login" in page.url
    refused_with_old_cookie(live, second)

    # Every form posted with this site's real Origin (the referrer policy lets it say so).
    assert len(phone.posts) == 7
    for url, headers in phone.posts:
        assert headers.get("origin") == live.url, (url, headers.get("origin"))
    assert phone.csp_violations == []
    phone.context.close()

    # An admin uses GraphiQL with a session: it sends the session's CSRF token.
    desk = Person(browser.new_context(viewport={"width": 1280, "height": 900}), live.url,
                  submitted)
    desk.sign_in(ADMIN, "/graphql")
    desk.page.wait_for_selector(".graphiql-execute-button", timeout=30_000)
    desk.page.click(".graphiql-query-editor .CodeMirror")
    desk.page.keyboard.press("Control+A")
    desk.page.keyboard.press("Delete")
    desk.page.keyboard.type('mutation MakeRoom { createCI(input: {class: "Room", '
                            'name: "graphiql room-7"}) { name } }')
    # GraphiQL learns the new operation's name a moment after the last keystroke; a click
    # before that sends the old name (refused, nothing runs): a person clicks again.
    for _ in range(20):
        with desk.page.expect_response(lambda r: r.request.method == "POST"
                                       and "MakeRoom" in (r.request.post_data or "")) as sent:
            desk.page.click(".graphiql-execute-button")
        if "errors" not in sent.value.json():
            break
        desk.page.wait_for_timeout(250)
    desk.page.wait_for_function(
        "() => document.querySelector('.result-window')?.innerText.includes('room-7')",
        timeout=30_000)
    made = live.ok('{ cis(filter: {text: "room-7"}) { edges { node { name '
                   "history { nodes { actor } } } } } }")
    assert made["cis"]["edges"] == [{"node": {"name": "graphiql room-7",
                                              "history": {"nodes": [{"actor": ADMIN}]}}}]
    graphql_posts = [h for url, h in desk.posts if url.endswith("/graphql")]
    assert graphql_posts
    assert all(h.get("x-csrf-token") for h in graphql_posts)
    # The admin lists the open campaigns, then opens the one there is.
    page = desk.page
    page.goto(f"{live.url}/campaigns?lang=en")
    page.select_option("#list-filter select[name=status]", "open")
    desk.submit("list-filter")
    assert "status=open" in page.url
    with page.expect_navigation():
        page.click("#list a >> text=2026 H2 北京")
    assert page.inner_text("#campaign-name") == "2026 H2 北京"

    # The admin finds BJ-0002 in the console and edits it: each form by its button.
    page.goto(f"{live.url}/?lang=en")
    page.fill("#home-search input[name=q]", "bj-srv")
    desk.submit("home-search")  # several match: the list
    assert page.locator("#ci-results tbody tr").count() == 6
    page.fill("#ci-search input[name=q]", "BJ-0002")
    desk.submit("ci-search")  # one match: its page opens
    assert page.inner_text("#ci-tag") == "BJ-0002"
    assert "2026 H2 北京" in page.inner_text("#audits")  # the scan saw it in the campaign
    page.fill("#edit-form input[name=serial_number]", "SN-BJ-0002-B")
    page.fill("#edit-form input[name=reason]", "serial re-read")
    desk.submit("edit-form")
    page.select_option("#state-form select[name=to]", "maintenance")
    desk.submit("state-form")
    page.select_option("#relate-form select[name=type]", "DEPENDS_ON")
    page.fill("#relate-form input[name=target]", "BJ-0001")
    desk.submit("relate-form")
    after = live.ok('{ ci(assetTag: "BJ-0002") { serialNumber state outgoing('
                    'type: "DEPENDS_ON") { edges { node { to { assetTag } } } } } }')["ci"]
    assert (after["serialNumber"], after["state"]) == ("SN-BJ-0002-B", "maintenance")
    assert after["outgoing"]["edges"] == [{"node": {"to": {"assetTag": "BJ-0001"}}}]
    page.select_option("#unrelate-form select[name=relationship]",
                       label=page.locator("#unrelate-form option").filter(
                           has_text="bj-srv-01").first.inner_text())
    desk.submit("unrelate-form")
    assert "bj-srv-01" not in page.inner_text("#relationships-out")
    console_posts = [h for url, h in desk.posts if "/cis/" in url]
    assert len(console_posts) == 4
    assert all(h.get("origin") == live.url for h in console_posts)

    # The impact page's depth control: a GET form (nothing written, no token needed).
    asset = live.ok('{ ci(assetTag: "BJ-0002") { id } }')["ci"]["id"]
    desk.page.goto(f"{live.url}/cis/{asset}/impact?lang=en")
    desk.page.fill("#depth", "2")
    desk.submit("impact-depth-form")
    assert desk.page.url.startswith(f"{live.url}/cis/{asset}/impact?")
    assert "depth=2" in desk.page.url
    assert desk.page.input_value("#depth") == "2"
    assert desk.csp_violations == []
    desk.context.close()

    assert submitted == template_forms(), (
        f"page forms this suite does not submit: {sorted(template_forms() - submitted)}")


@pytest.mark.browser
def test_demo_mode_seen_here_in_chromium(tmp_path: Path, browser: Browser) -> None:
    """Demo mode has no sessions: its own pages' forms pass on their real Origin."""
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'demo.sqlite3'}", auth="none")
    campaign_id = seed(settings, tmp_path)
    for live in run_server(settings):
        page = browser.new_page(extra_http_headers={"Accept-Language": "en"})
        page.goto(f"{live.url}/a/BJ-0005")
        with page.expect_navigation():
            page.click("#seen-form [type=submit]")
        assert page.inner_text("#audit-message") == "Sighting recorded."
        assert any(f["assetTag"] == "BJ-0005" and f["type"] == "VERIFIED"
                   for f in findings(live, campaign_id))
        page.close()
