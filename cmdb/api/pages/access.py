"""Sign-in for the browser pages: ``GET/POST /login``, and ``GET/POST /logout``.

A small form in Chinese or English (as the browser prefers, or ``?lang=``). A good
login and password starts a session kept in the store (``cmdb.services.access.sessions``),
sets its cookie and goes back to the page asked for (``next``, a path on this site
only). The form carries a signed double-submit token (see ``csrf``), so another site
cannot sign a browser in. Failed attempts are slowed per client address (the address
that connected, or the one a trusted proxy names) and written to the audit log.

``GET /logout`` asks to confirm; ``POST /logout`` (with the session's CSRF token) ends
the session in the store, so its cookie stops working everywhere.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cmdb.api.http.access import client_host
from cmdb.api.http.sessions import COOKIE, clear_session_cookie, cookie, is_secure, session_cookie
from cmdb.api.web.csrf import (
    FIELD,
    SIGNIN_COOKIE,
    check_session_write,
    cross_site,
    new_nonce,
    same_token,
    session_token,
    signin_token,
)
from cmdb.api.web.error_pages import error_response
from cmdb.api.web.forms import form_text, read_page_form
from cmdb.api.web.html import Html, language
from cmdb.api.web.ratelimit import TokenBucket, retry_after
from cmdb.errors import AuthenticationError
from cmdb.services import Cmdb
from cmdb.services.access.service import audit_event
from cmdb.services.access.sessions import looks_like_session

TEXT: dict[str, dict[str, str]] = {
    "en": {"title": "Sign in", "login": "Login", "password": "Password", "submit": "Sign in",
           "hint": "Scripts and tools use an API token instead (Authorization: Bearer).",
           "bad": "Wrong login or password.", "slow": "Too many attempts: wait {s} s.",
           "expired": "The sign-in form had expired or came from another site: "
                      "please sign in again."},
    "zh-CN": {"title": "登录", "login": "用户名", "password": "密码", "submit": "登录",
              "hint": "脚本和工具请使用 API 令牌（Authorization: Bearer）。",
              "bad": "用户名或密码错误。", "slow": "尝试次数过多，请 {s} 秒后再试。",
              "expired": "登录表单已过期或来自其他网站，请重新登录。"},
}
NONCE_SECONDS = 3600
NONCE = re.compile(r"[A-Za-z0-9_-]{20,64}")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if (not value or not value.startswith("/") or value.startswith(("//", "/\\"))
            or any(ord(c) < 32 or c == "\\" for c in value) or len(value) > 2000):
        return "/graphql"
    return value


class LoginPages:
    """The sign-in and sign-out routes."""

    def __init__(self, core: Cmdb, html: Html, signing_key: bytes | None) -> None:
        self.core = core
        self.html = html
        self.fixed_key = signing_key
        # Failed sign-ins per client address: 10 at once, then one every 5 seconds.
        self.failures = TokenBucket(0.2, 10)

    def routes(self) -> list[BaseRoute]:
        return [Route("/login", self.login, methods=["GET", "POST"]),
                Route("/logout", self.logout, methods=["GET", "POST"])]

    def _secure(self, request: Request) -> bool:
        return is_secure(request, self.core.settings.public_base_url)

    async def _key(self) -> bytes:
        return self.fixed_key or await self.core.sessions.signing_key()

    async def _page(self, request: Request, next_url: str, error: str | None = None,
                    login: str = "", status: int = 200) -> Response:
        """The sign-in form, with a token for this browser's nonce (made if it has none)."""
        nonce = request.cookies.get(SIGNIN_COOKIE, "")
        fresh = NONCE.fullmatch(nonce) is None
        if fresh:
            nonce = new_nonce()
        lang = language(request)
        other = "en" if lang == "zh-CN" else "zh-CN"
        response = self.html.render(
            request, "login.html", http_status=status, lang=lang, t=TEXT[lang], next=next_url,
            error=error, login=login, signin_token=signin_token(await self._key(), nonce),
            switch_url="/login?" + urlencode({"lang": other, "next": next_url}))
        if fresh:
            response.headers.append("Set-Cookie", cookie(
                SIGNIN_COOKIE, nonce, NONCE_SECONDS, self._secure(request),
                same_site="Strict", path="/login"))
        return response

    async def login(self, request: Request) -> Response:
        if self.core.settings.auth == "none":
            return RedirectResponse(safe_next(request.query_params.get("next")), 303)
        if request.method == "GET":
            return await self._page(request, safe_next(request.query_params.get("next")))
        lang = language(request)
        form = await read_page_form(request)
        next_url = safe_next(form_text(form, "next", 2000))
        login, password = form_text(form, "login", 100), form_text(form, "password", 1024)
        client = client_host(request.scope) or "?"
        nonce = request.cookies.get(SIGNIN_COOKIE, "")
        if cross_site(request, self.core.settings.public_base_url, allow_null=True) or (
                not same_token(form_text(form, FIELD, 200),
                               signin_token(await self._key(), nonce) if nonce else None)):
            audit_event("signin.refused", reason="no valid sign-in form token", user=login,
                        client=client)
            return await self._page(request, next_url, TEXT[lang]["expired"], login, 403)
        wait = self.failures.wait(client)
        if wait:
            audit_event("signin.refused", reason="too many attempts", user=login,
                        client=client)
            page = await self._page(request, next_url, TEXT[lang]["slow"].format(
                s=retry_after(wait)), login, 429)
            page.headers["Retry-After"] = retry_after(wait)
            return page
        try:
            principal = await self.core.auth.sign_in(login, password, client)
        except AuthenticationError:
            self.failures.take(client)
            return await self._page(request, next_url, TEXT[lang]["bad"], login, 401)
        old = request.cookies.get(COOKIE)
        if looks_like_session(old):  # a session cookie from before is not reused
            await self.core.sessions.end(old, principal.name, "signed in again")
        secret = await self.core.sessions.start(principal, client)
        response = RedirectResponse(next_url, 303)
        secure = self._secure(request)
        response.headers.append("Set-Cookie", session_cookie(
            secret, self.core.settings.session_hours, secure))
        response.headers.append("Set-Cookie", cookie(SIGNIN_COOKIE, "", 0, secure,
                                                     same_site="Strict", path="/login"))
        return response

    async def logout(self, request: Request) -> Response:
        secret = request.cookies.get(COOKIE)
        principal = await self.core.sessions.principal(secret)
        if principal is None:  # nothing to end: on to the sign-in page
            response: Response = RedirectResponse("/login", 303)
            if secret is not None:
                response.headers.append("Set-Cookie", clear_session_cookie(
                    self._secure(request)))
            return response
        assert secret is not None
        request.scope.setdefault("state", {}).update(
            csrf_token=session_token(secret), session_user=principal.name)
        if request.method == "GET":
            return self.html.render(request, "logout.html", no_footer_sign_out=True)
        why = await check_session_write(request, session_token(secret),
                                        self.core.settings.public_base_url)
        if why:
            audit_event("auth.refused", reason="csrf", principal=principal.name,
                        path="/logout")
            return error_response(self.html, request, 403, why, back="/logout")
        await self.core.sessions.end(secret, principal.name)
        response = RedirectResponse("/login", 303)
        response.headers.append("Set-Cookie", clear_session_cookie(self._secure(request)))
        return response
