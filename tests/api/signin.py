"""Signing in over plain HTTP as a browser would: fetch the form, post it with its token.

For scripts that drive the pages with ``httpx`` (the browser tests use Chromium itself):
the sign-in form's token comes from the page ``GET /login`` served with its cookie,
and a session's CSRF token from a page served to that session (GraphiQL's
``cmdb-csrf-token`` meta tag), exactly where a browser finds them.
"""

from __future__ import annotations

import html
import re

import httpx

FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')
META = re.compile(r'<meta name="cmdb-csrf-token" content="([^"]*)">')
HTML = {"Accept": "text/html,application/xhtml+xml"}


def form_token(page: str) -> str:
    """The ``csrf_token`` field of the first form on a page."""
    found = FIELD.search(page)
    assert found, f"no csrf_token field on the page:\n{page[:500]}"
    return html.unescape(found.group(1))


def sign_in(client: httpx.Client, login: str, password: str,
            next_url: str = "/graphql") -> httpx.Response:
    """Open the sign-in page, then post its form (not following the redirect)."""
    page = client.get("/login", params={"next": next_url}, headers=HTML)
    assert page.status_code == 200, page.text
    return client.post("/login", headers=HTML, follow_redirects=False, data={
        "login": login, "password": password, "next": next_url,
        "csrf_token": form_token(page.text)})


def session_token(client: httpx.Client) -> str:
    """The signed-in session's CSRF token, as GraphiQL reads it from its page."""
    page = client.get("/graphql", headers=HTML)
    found = META.search(page.text)
    assert found, "the GraphiQL page carries no CSRF token"
    assert found.group(1), "the GraphiQL page carries no CSRF token"
    return html.unescape(found.group(1))
