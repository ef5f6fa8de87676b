"""Sign-in for the browser pages: ``GET/POST /login`` and ``POST /logout``.

A small form in Chinese or English (as the browser prefers, or ``?lang=``);
a good login and password sets the signed session cookie and goes back to the
page asked for (``next``, a path on this site only). Failed attempts are slowed
per client address and written to the audit log.
"""

from __future__ import annotations

from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cmdb.api.access import client_host
from cmdb.api.pages import HEADERS, TEMPLATES, choose_language
from cmdb.api.ratelimit import TokenBucket, retry_after
from cmdb.api.sessions import SessionSigner
from cmdb.errors import AuthenticationError
from cmdb.services import Cmdb
from cmdb.services.auth import audit_event

TEXT: dict[str, dict[str, str]] = {
    "en": {"title": "Sign in", "login": "Login", "password": "Password", "submit": "Sign in",
           "hint": "Scripts and tools use an API token instead (Authorization: Bearer).",
           "bad": "Wrong login or password.", "slow": "Too many attempts: wait {s} s.",
           "other": "中文"},
    "zh-CN": {"title": "登录", "login": "用户名", "password": "密码", "submit": "登录",
              "hint": "脚本和工具请使用 API 令牌（Authorization: Bearer）。",
              "bad": "用户名或密码错误。", "slow": "尝试次数过多，请 {s} 秒后再试。",
              "other": "English"},
}


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/graphql"
    return value


class LoginPages:
    """The sign-in and sign-out routes."""

    def __init__(self, core: Cmdb, signer: SessionSigner) -> None:
        self.core = core
        self.signer = signer
        self.env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                               trim_blocks=True, lstrip_blocks=True)
        # Failed sign-ins per client address: 10 at once, then one every 5 seconds.
        self.failures = TokenBucket(0.2, 10)

    def routes(self) -> list[BaseRoute]:
        return [Route("/login", self.login, methods=["GET", "POST"]),
                Route("/logout", self.logout, methods=["GET", "POST"])]

    def _secure(self, request: Request) -> bool:
        return request.url.scheme == "https" or self.core.settings.public_base_url.startswith(
            "https:")

    def _page(self, request: Request, next_url: str, error: str | None = None,
              login: str = "", status: int = 200) -> HTMLResponse:
        lang = choose_language(request.headers.get("accept-language"),
                               request.query_params.get("lang"))
        other = "en" if lang == "zh-CN" else "zh-CN"
        html = self.env.get_template("login.html").render(
            lang=lang, t=TEXT[lang], next=next_url, error=error, login=login,
            organisation=self.core.settings.organisation_name,
            switch_url=f"/login?lang={other}&next={quote(next_url, safe='')}")
        return HTMLResponse(html, status_code=status,
                            headers={**HEADERS, "Content-Language": lang})

    async def login(self, request: Request) -> Response:
        lang = choose_language(request.headers.get("accept-language"),
                               request.query_params.get("lang"))
        if self.core.settings.auth == "none":
            return RedirectResponse(safe_next(request.query_params.get("next")), 303)
        if request.method == "GET":
            return self._page(request, safe_next(request.query_params.get("next")))
        form = await request.form(max_files=0, max_fields=5, max_part_size=4096)
        next_url = safe_next(str(form.get("next") or ""))
        login, password = str(form.get("login") or ""), str(form.get("password") or "")
        client = client_host(request.scope) or "?"
        wait = self.failures.wait(client)
        if wait:
            audit_event("signin.refused", reason="too many attempts", user=login[:100],
                        client=client)
            page = self._page(request, next_url, TEXT[lang]["slow"].format(
                s=retry_after(wait)), login[:100], 429)
            page.headers["Retry-After"] = retry_after(wait)
            return page
        try:
            principal = await self.core.auth.sign_in(login, password, client)
        except AuthenticationError:
            self.failures.take(client)
            return self._page(request, next_url, TEXT[lang]["bad"], login[:100], 401)
        response = RedirectResponse(next_url, 303)
        response.headers.append("Set-Cookie", self.signer.cookie_header(
            self.signer.dumps(principal.id), self._secure(request)))
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/login", 303)
        response.headers.append("Set-Cookie", SessionSigner.clear_header(self._secure(request)))
        return response
