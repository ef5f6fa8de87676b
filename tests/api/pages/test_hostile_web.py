"""Hostile requests against the web side, one test per class, as deployed (authentication
on): cross-site posts with and without tokens (in Chromium, from pages served by other
origins), login CSRF, framing, session reuse after it ended, markup in every path
segment and query parameter a page echoes, media types in odd letter case and page
forms past their bounds, spoofed forwarded headers.

Each test asserts the refusal and that the server stayed responsive while it was
refused (``responsive.probing``: ``/healthz`` answered throughout, quickly).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, Route

from cmdb.model.access import Role
from cmdb.settings import Settings
from tests.api.browser import sign_in
from tests.api.conftest import LiveServer, free_port, make_user, run_server
from tests.api.pages.test_audit import FINDINGS, seed
from tests.api.responsive import probing
from tests.api.signin import HTML, form_token, session_token
from tests.api.signin import sign_in as http_sign_in

AUDITOR, ADMIN, PASSWORD = "chen.qi", "admin.wang", "盘点 password 7"
EVIL_SITE = "http://evil.example"
MARKUP = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
SEGMENT = "\"'><img src=x onerror=alert(3)><b>bold"  # no "/": stays one path segment
RAW = ("<script>alert(1)", "<img src=x", "<b>bold", '"><script')
FAST = 0.25  # seconds: a refusal takes milliseconds; this bound only catches a stall


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'hostile.sqlite3'}",
                        max_upload_bytes=65_536)
    campaign_id = seed(settings, tmp_path)
    make_user(settings, AUDITOR, PASSWORD, Role.AUDITOR)
    make_user(settings, ADMIN, PASSWORD, Role.ADMIN)
    for server in run_server(settings):
        yield server, campaign_id


def sightings_of(live: LiveServer, campaign_id: str, tag: str) -> list[dict[str, Any]]:
    """The evidence the campaign holds for ``tag`` (every sighting recorded of it)."""
    nodes = live.ok(FINDINGS, {"id": campaign_id})["campaign"]["findings"]["nodes"]
    return [e for f in nodes if f["assetTag"] == tag and f["type"] == "VERIFIED"
            for e in f["evidence"]]


def served(context: BrowserContext, origin: str, body: str) -> None:
    """Serve ``body`` as the page at ``origin`` (another site, as far as Chromium knows)."""
    context.route(f"{origin}/**", lambda route: route.fulfill(
        status=200, content_type="text/html; charset=utf-8", body=body))


@contextmanager
def real_site(body: str) -> Iterator[str]:
    """Serve ``body`` from a real server on another port of this host: another origin of
    the same site (so the browser treats it as a local page, and sends its cookies)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def attack_page(action: str, fields: dict[str, str], enctype: str | None = None) -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    kind = f' enctype="{enctype}"' if enctype else ""
    return (f'<!doctype html><form id="f" method="post" action="{action}"{kind}>{inputs}'
            '<button id="go">Win a prize</button></form>')


def click_through(page: Page, url: str) -> int:
    """Open ``url`` and click its button, as a lured user would; the status answered."""
    page.goto(url)
    with page.expect_navigation() as nav:
        page.click("#go")
    response = nav.value
    assert response is not None
    return response.status


@pytest.mark.browser
def test_cross_site_posts_are_refused_with_or_without_a_token(
        hostile: tuple[LiveServer, str], browser: Browser) -> None:
    """A signed-in auditor is lured to pages of other origins that post the "seen here"
    form: from another site (the cookie is not even sent: SameSite), from another port
    of the same host (same site: the cookie is sent, the token and Origin decide), with
    no token and with the session's real token. Only the CMDB's own page gets through,
    and with ``Origin: null`` (a browser withholding its origin) only with the token."""
    live, campaign_id = hostile
    context = browser.new_context(extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    sign_in(page, live.url, AUDITOR, PASSWORD, "/a/BJ-0003")
    token = form_token(page.content())
    same_site = "http://127.0.0.1:9"  # another origin, the same site (cookies go along)
    action = f"{live.url}/a/BJ-0003/seen"
    cases = [
        (EVIL_SITE, {}, 401), (EVIL_SITE, {"csrf_token": token}, 401),
        (same_site, {}, 403), (same_site, {"csrf_token": token}, 403),
        (same_site, {"csrf_token": "forged" + token[6:]}, 403),
    ]
    origins: list[str | None] = []
    page.on("request", lambda r: origins.append(r.headers.get("origin"))
            if r.method == "POST" else None)
    with probing(live.url) as probe:
        for origin, fields, status in cases:
            served(context, origin, attack_page(action, {**fields, "note": "forged"}))
            assert click_through(page, f"{origin}/prize") == status, (origin, fields)
            assert "Not allowed" in page.inner_text("body") or status == 401
    probe.assert_responsive()
    assert origins == [EVIL_SITE, EVIL_SITE, same_site, same_site, same_site]
    assert sightings_of(live, campaign_id, "BJ-0003") == []

    # The CMDB's own page, as served, passes (its Origin is this site's).
    page.goto(f"{live.url}/a/BJ-0003")
    with page.expect_navigation():
        page.click("#seen-form [type=submit]")
    assert page.inner_text("#audit-message") == "Sighting recorded."
    assert origins[-1] == live.url

    # Origin: null (the page withholds its referrer): passes with the token, not without.
    def no_referrer(route: Route) -> None:
        answer = route.fetch()
        route.fulfill(response=answer,
                      headers={**answer.headers, "referrer-policy": "no-referrer"})

    page.route(f"{live.url}/a/BJ-0005*", no_referrer)
    page.goto(f"{live.url}/a/BJ-0005")
    with page.expect_navigation():
        page.click("#seen-form [type=submit]")
    assert origins[-1] == "null"
    assert page.inner_text("#audit-message") == "Sighting recorded."
    page.goto(f"{live.url}/a/BJ-0005")
    page.evaluate("document.querySelector('#seen-form input[name=csrf_token]').remove()")
    with probing(live.url) as probe, page.expect_navigation() as nav:
        page.click("#seen-form [type=submit]")
    probe.assert_responsive()
    assert origins[-1] == "null"
    assert nav.value is not None
    assert nav.value.status == 403
    assert "CSRF token" in page.inner_text("#error-message")
    assert len(sightings_of(live, campaign_id, "BJ-0005")) == 1

    # The same refusals from a script holding the cookie: milliseconds, nothing blocked.
    cookie = next(c["value"] for c in context.cookies() if c["name"] == "cmdb_session")
    times = []
    with httpx.Client(base_url=live.url, cookies={"cmdb_session": cookie}) as c, \
            probing(live.url) as probe:
        for headers in ({}, {"Origin": "null"}, {"Origin": same_site, "X-CSRF-Token": token},
                        {"Sec-Fetch-Site": "cross-site", "X-CSRF-Token": token}):
            started = time.perf_counter()
            r = c.post("/a/BJ-0003/seen", data={"note": "x"}, headers=headers)
            times.append(time.perf_counter() - started)
            assert r.status_code == 403, (headers, r.text)
            assert r.json()["code"] == "FORBIDDEN"
    probe.assert_responsive()
    assert max(times) < FAST
    print(f"CSRF refusals: worst {max(times) * 1000:.1f} ms, "
          f"/healthz worst {probe.worst * 1000:.1f} ms")
    context.close()


@pytest.mark.browser
def test_cross_site_graphql_and_sign_in_are_refused(hostile: tuple[LiveServer, str],
                                                    browser: Browser) -> None:
    """The exploit of the audit: a page of another origin posts a multipart
    ``createUser(role: ADMIN)`` to /graphql with a signed-in admin's cookie. And login
    CSRF: another site signs the browser in to an account of its choosing."""
    live, _ = hostile
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live.url, ADMIN, PASSWORD, "/a/BJ-0001")
    mutation = 'mutation { createUser(login: "mallory", password: "pwned pwned", role: ADMIN) ' \
               '{ login } }'
    operations = json.dumps({"query": mutation}).replace('"', "&quot;")
    with httpx.Client(base_url=live.url) as attacker:  # the attacker's own sign-in form
        form = attacker.get("/login")
        stolen = form_token(form.text)
    served(context, "http://127.0.0.1:9", attack_page(
        f"{live.url}/graphql", {"operations": operations, "map": "{}"},
        "multipart/form-data"))
    victim = browser.new_context()  # not signed in yet
    lured = victim.new_page()
    served(victim, EVIL_SITE, attack_page(f"{live.url}/login", {
        "login": AUDITOR, "password": PASSWORD, "csrf_token": stolen, "next": "/graphql"}))
    with probing(live.url) as probe:
        started = time.perf_counter()
        assert click_through(page, "http://127.0.0.1:9/prize") == 403
        refused_in = time.perf_counter() - started
        assert click_through(lured, f"{EVIL_SITE}/prize") == 403
    probe.assert_responsive()
    print(f"cross-site GraphQL refused in {refused_in * 1000:.0f} ms (browser round trip), "
          f"/healthz worst {probe.worst * 1000:.1f} ms")
    assert "mallory" not in {u["login"] for u in live.ok("{ users { login } }")["users"]}
    assert "cmdb_session" not in {c["name"] for c in victim.cookies()}
    victim.close()
    context.close()


@pytest.mark.browser
def test_pages_cannot_be_framed_by_another_site(hostile: tuple[LiveServer, str],
                                                browser: Browser) -> None:
    live, campaign_id = hostile
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live.url, ADMIN, PASSWORD, "/a/BJ-0001")
    targets = ["/graphql", "/a/BJ-0001", f"/campaigns/{campaign_id}", "/login", "/logout",
               "/no/such/page"]
    frames = "".join(f'<iframe src="{live.url}{t}" width="300" height="200"></iframe>'
                     for t in targets)
    with real_site(f"<!doctype html><body>{frames}</body>") as other, \
            probing(live.url) as probe:
        page.goto(f"{other}/frames", wait_until="load")  # the frames' loads included
    probe.assert_responsive()
    children = [f for f in page.frames if f != page.main_frame]
    assert len(children) == len(targets)
    for frame in children:
        assert not frame.url.startswith(live.url), f"{frame.url} shown in another site's frame"
        assert "cmdb" not in frame.content().lower()
    context.close()


def test_a_session_is_refused_once_ended(hostile: tuple[LiveServer, str]) -> None:
    """Sign-out, sign-out-everywhere, a password change and disabling the user each end
    the session: its cookie (and its CSRF token) are refused afterwards, at once."""
    live, _ = hostile
    me = {"query": "{ me { name } }"}

    def signed_in() -> tuple[httpx.Client, dict[str, str]]:
        c = httpx.Client(base_url=live.url, timeout=10)
        assert http_sign_in(c, AUDITOR, PASSWORD).status_code == 303
        return c, {"X-CSRF-Token": session_token(c), "cookie": c.cookies["cmdb_session"]}

    def ends(c: httpx.Client, kept: dict[str, str]) -> None:
        cookie = kept.pop("cookie")
        csrf = kept
        with httpx.Client(base_url=live.url, timeout=10) as old, probing(live.url) as probe:
            old.cookies.set("cmdb_session", cookie)
            assert old.post("/graphql", json=me, headers=csrf).status_code == 401
            assert old.get("/graphql", params=me).status_code == 401
            seen = old.post("/a/BJ-0001/seen", headers=HTML,
                            data={"csrf_token": csrf["X-CSRF-Token"]})
            assert seen.status_code == 401
            assert old.get("/a/BJ-0001", headers=HTML).status_code == 303
        probe.assert_responsive()
        c.close()

    c, csrf = signed_in()
    assert c.post("/graphql", json=me, headers={"X-CSRF-Token": csrf["X-CSRF-Token"]}).json()[
        "data"]["me"]["name"] == AUDITOR
    out = c.post("/logout", headers=HTML, data={"csrf_token": csrf["X-CSRF-Token"]})
    assert out.status_code == 303
    ends(c, csrf)

    c, csrf = signed_in()
    assert live.ok(f'mutation {{ signOutEverywhere(login: "{AUDITOR}") }}') == {
        "signOutEverywhere": 1}
    ends(c, csrf)

    c, csrf = signed_in()
    new = "a brand new password 9"
    changed = c.post("/graphql", headers={"X-CSRF-Token": csrf["X-CSRF-Token"]}, json={
        "query": "mutation($o: String!, $n: String!) { changePassword(currentPassword: $o, "
                 "newPassword: $n) { login } }", "variables": {"o": PASSWORD, "n": new}})
    assert changed.json()["data"]["changePassword"]["login"] == AUDITOR
    ends(c, csrf)
    live.ok("mutation($p: String!) { setPassword(login: \"chen.qi\", password: $p) "
            "{ login } }", {"p": PASSWORD})

    c, csrf = signed_in()
    live.ok(f'mutation {{ disableUser(login: "{AUDITOR}") {{ disabled }} }}')
    ends(c, csrf)


def echoing_urls(campaign_id: str) -> list[str]:
    """Every page address with markup in each path segment and query parameter it reads."""
    m, seg = quote(MARKUP, safe=""), quote(SEGMENT, safe="")
    return [
        f"/a/{seg}", f"/a/{m}", f"/a/{seg}?lang={m}&msg={m}", f"/a/BJ-0001?lang={m}&msg={m}",
        f"/a/BJ-0001/{seg}", f"/campaigns/{seg}", f"/campaigns/{seg}?lang={m}&msg={m}",
        f"/campaigns/{campaign_id}?type={m}&status={m}&offset={m}&lang={m}&msg={m}&n={m}",
        f"/campaigns/{campaign_id}?msg=resolved&n={m}",
        f"/login?next={m}&lang={m}", f"/login?next=/{seg}", f"/logout?next={m}",
        f"/{seg}", f"/{seg}/{seg}?{m}={m}", f"/static/{seg}", f"/labels/{seg}.png",
        f"/graphql/{seg}",
    ]


def test_markup_in_paths_and_parameters_comes_back_as_text(
        hostile: tuple[LiveServer, str]) -> None:
    live, campaign_id = hostile
    with httpx.Client(base_url=live.url, timeout=10, headers=HTML) as c, \
            probing(live.url) as probe:
        assert http_sign_in(c, ADMIN, PASSWORD).status_code == 303
        for url in echoing_urls(campaign_id):
            r = c.get(url)
            assert r.status_code < 500, (url, r.status_code)
            assert r.headers["x-content-type-options"] == "nosniff", url
            if not r.headers.get("content-type", "").startswith("text/html"):
                assert r.headers["content-type"].startswith("application/json"), url
                continue  # a JSON string holds any text; nosniff keeps it from being HTML
            for raw in RAW:
                assert raw not in r.text, (url, r.text[:300])
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"], url
        for action, form in ((f"/campaigns/{quote(SEGMENT, safe='')}/resolve", {
                "finding": MARKUP, "resolution": "MARK_LOST", "reason": MARKUP,
                "back": MARKUP}), (f"/a/{quote(SEGMENT, safe='')}/seen", {
                "place": MARKUP, "note": MARKUP, "condition": MARKUP, "lang": MARKUP})):
            posted = c.post(action, data={"csrf_token": session_token(c), **form})
            if posted.status_code == 303:  # a scan of an unknown tag is recorded: go back
                assert posted.headers["location"].startswith(action.removesuffix("/seen")
                                                             + "?")
                posted = c.get(posted.headers["location"])
            assert posted.status_code in (400, 404), (action, posted.text[:300])
            for raw in RAW:
                assert raw not in posted.text, (action, posted.text[:300])
    probe.assert_responsive()


@pytest.mark.browser
def test_no_echoed_markup_runs_in_chromium(hostile: tuple[LiveServer, str],
                                           browser: Browser) -> None:
    live, campaign_id = hostile
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []

    def dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    sign_in(page, live.url, ADMIN, PASSWORD, "/a/BJ-0001")
    for url in echoing_urls(campaign_id):
        if url.startswith(("/static/", "/labels/")):
            continue
        page.goto(f"{live.url}{url}")
        for planted in ("script", 'img[src="x"]', "b"):
            assert page.locator(planted).count() == 0, (url, planted)
    assert dialogs == []
    context.close()


def test_media_types_in_any_case_and_page_forms_are_bounded(
        hostile: tuple[LiveServer, str]) -> None:
    """``Multipart/form-data`` is multipart: over the upload limit (or of undeclared size)
    it is refused like the lower-case one; a page form is read to 64 KiB at most, however
    it is sent; a Content-Type that is not a media type is refused."""
    live, _ = hostile
    big = b"x" * 200_000
    figures: dict[str, float] = {}

    def chunked(total: int) -> Iterator[bytes]:
        sent = 0
        while sent < total:
            yield b"note=" + b"x" * 16_379 if sent == 0 else b"x" * 16_384
            sent += 16_384

    with httpx.Client(base_url=live.url, timeout=30, headers=HTML) as c:
        assert http_sign_in(c, AUDITOR, PASSWORD).status_code == 303
        token = session_token(c)
        bearer = {"Authorization": f"Bearer {live.token}"}
        cases: list[tuple[str, Any, int]] = [
            ("upload, Multipart", lambda: live.client.post(
                "/imports/csv", content=b"--b\r\n" + big, headers={
                    "Content-Type": "Multipart/Form-Data; boundary=b"}), 413),
            ("upload, MULTIPART, undeclared size", lambda: live.client.post(
                "/imports/csv", content=iter([b"--b\r\n", big]), headers={
                    "Content-Type": "MULTIPART/FORM-DATA; boundary=b"}), 413),
            ("GraphQL, Multipart", lambda: live.client.post(
                "/graphql", content=b"--b\r\n" + big, headers={
                    "Content-Type": "multipart/Form-Data; boundary=b"}), 413),
            ("page form, Multipart", lambda: c.post(
                "/a/BJ-0001/seen", content=b"--b\r\n" + big, headers={
                    "Content-Type": "Multipart/form-data; boundary=b", "X-CSRF-Token": token}),
             413),
            ("page form, chunked 8 MB", lambda: c.post(
                "/a/BJ-0001/seen", content=chunked(8_000_000), headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRF-Token": token}), 413),
            ("page form with a token, chunked 8 MB", lambda: live.client.post(
                "/a/BJ-0001/seen", content=chunked(8_000_000), headers={
                    **bearer, "Content-Type": "Application/X-WWW-Form-Urlencoded"}), 413),
            ("not a media type", lambda: c.post(
                "/a/BJ-0001/seen", content=b"note=x", headers={
                    "Content-Type": "form; urlencoded", "X-CSRF-Token": token}), 415),
        ]
        with probing(live.url) as probe:
            for name, send, status in cases:
                started = time.perf_counter()
                r = send()
                figures[name] = round((time.perf_counter() - started) * 1000, 1)
                assert r.status_code == status, (name, r.status_code, r.text[:300])
            # The same form in odd letter case, within bounds, is a form.
            ok = c.post("/a/BJ-0001/seen", content=f"csrf_token={token}&note=ok".encode(),
                        headers={"Content-Type": "Application/X-WWW-Form-URLEncoded; "
                                                 "Charset=UTF-8"}, follow_redirects=False)
            assert ok.status_code == 303, ok.text
        probe.assert_responsive()
    print("media-type refusals (ms):", figures, f"/healthz worst {probe.worst * 1000:.1f} ms")


def test_forwarded_headers_are_believed_from_trusted_proxies_only(tmp_path: Path) -> None:
    """With no trusted proxy, ``X-Forwarded-For`` cannot pick the address the sign-in
    throttle counts (10 failures, then 429, whatever the header says), nor can
    ``X-Forwarded-Proto`` claim https; from a trusted proxy, both are believed."""
    for trusted in ([], ["127.0.0.1"]):
        settings = Settings(store_url=f"sqlite:///{tmp_path / f'p{len(trusted)}.sqlite3'}",
                            trusted_proxies=trusted)
        make_user(settings, AUDITOR, PASSWORD, Role.AUDITOR)
        for live in run_server(settings):
            statuses = []
            with httpx.Client(base_url=live.url, timeout=10) as c, probing(live.url) as probe:
                for i in range(12):
                    page = c.get("/login")
                    r = c.post("/login", data={
                        "login": AUDITOR, "password": "wrong", "csrf_token": form_token(
                            page.text)}, headers={"X-Forwarded-For": f"198.51.100.{i}"})
                    statuses.append(r.status_code)
            with httpx.Client(base_url=live.url, timeout=10) as fresh:
                good = fresh.get("/login", headers={"X-Forwarded-Proto": "https"})
            probe.assert_responsive()
            if trusted:
                assert statuses == [401] * 12
                assert "Secure" in good.headers["set-cookie"]
            else:
                assert statuses[:10] == [401] * 10
                assert statuses[10:] == [429, 429]
                assert "Secure" not in good.headers["set-cookie"]
