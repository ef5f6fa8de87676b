"""Every HTML answer of the CMDB, rendered through one autoescaping Jinja2 environment.

Pages, error pages, the sign-in and sign-out pages and GraphiQL's page are templates
in ``templates/``; nothing in the code writes markup, so a value (an asset tag, a path
segment, a query parameter, a stored name) always reaches the browser as text. Each
page gets the common context: its language, the organisation's name, the zone its
times are shown in, the signed-in user (for the footer's sign-out form) and this
session's CSRF token (for its forms).
Each page carries the security headers itself (``headers``: CSP, no framing,
nosniff), so even an error page answered outside the middleware stack has them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse

from cmdb.api.web.headers import ALWAYS, PAGE_CSP
from cmdb.model.clock import Clock

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("zh-CN", "en")

COMMON: dict[str, dict[str, str]] = {
    "en": {"sign_out": "Sign out", "signed_in_as": "Signed in as", "back": "Back",
           "sign_in": "Sign in", "other": "中文", "time_zone": "Times in"},
    "zh-CN": {"sign_out": "退出登录", "signed_in_as": "当前用户", "back": "返回",
              "sign_in": "登录", "other": "English", "time_zone": "时区："},
}
ERRORS: dict[str, dict[int, tuple[str, str]]] = {
    "en": {
        400: ("Bad request", "The request could not be read."),
        401: ("Please sign in", "Your sign-in has ended: sign in again, then retry."),
        403: ("Not allowed", "You may not do this here, or the form came from another site "
                             "or has expired: go back, reload the page and try again."),
        404: ("Not found", "There is nothing at this address."),
        405: ("Not allowed", "This address does not take that kind of request."),
        409: ("Changed meanwhile", "Someone else changed this in the meantime: go back, "
                                   "reload the page and try again."),
        413: ("Too large", "What was sent is larger than this CMDB accepts."),
        415: ("Unsupported", "What was sent is not in a form this address takes."),
        429: ("Too many requests", "Wait a moment, then try again."),
        500: ("Something went wrong", "The CMDB could not answer. The error has been logged; "
                                      "try again, or tell the CMDB's administrators."),
        503: ("Unavailable", "The CMDB's database cannot be reached just now; try again "
                             "shortly."),
    },
    "zh-CN": {
        400: ("请求有误", "无法读取该请求。"),
        401: ("请登录", "登录已失效，请重新登录后再试。"),
        403: ("不允许", "您无权在此执行该操作，或表单来自其他网站、已过期："
                        "请返回，刷新页面后重试。"),
        404: ("未找到", "此地址没有内容。"),
        405: ("不允许", "此地址不接受这种请求。"),
        409: ("内容已被修改", "其他人刚刚修改了此内容：请返回，刷新页面后重试。"),
        413: ("内容过大", "提交的内容超过了本系统的上限。"),
        415: ("格式不支持", "提交的内容格式不被此地址接受。"),
        429: ("请求过多", "请稍候再试。"),
        500: ("出错了", "系统无法完成请求，错误已记录。请重试，或联系系统管理员。"),
        503: ("暂不可用", "暂时无法连接数据库，请稍后再试。"),
    },
}


def choose_language(accept_language: str | None, override: str | None = None) -> str:
    """``zh-CN`` or ``en``: ``?lang=`` first, then the browser's preference, else English."""
    wanted: list[tuple[float, int, str]] = []
    if override:
        wanted.append((2.0, 0, override))
    for i, part in enumerate((accept_language or "").split(",")[:50]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            wanted.append((q, i + 1, tag))
    for _q, _i, tag in sorted(wanted, key=lambda w: (-w[0], w[1])):
        tag = tag.strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def language(request: Request) -> str:
    return choose_language(request.headers.get("accept-language"),
                           request.query_params.get("lang"))


def segment(value: str) -> str:
    """``value`` as one URL path segment: every ``/``, ``?``, ``#`` and ``%`` encoded, and
    a segment of dots too (a browser would otherwise step up a folder)."""
    quoted = quote(str(value), safe="")
    return quoted.replace(".", "%2E") if quoted.strip(".") == "" else quoted


def environment() -> Environment:
    """The one Jinja2 environment: every value is escaped unless a template says not."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["segment"] = segment
    return env


class Html:
    """Renders the templates into answers."""

    def __init__(self, organisation: str | None, time_zone: str | None = None) -> None:
        self.env = environment()
        self.organisation = organisation
        #: The zone the pages show times in, as the footer names it once.
        self.time_zone = time_zone

    def render(self, request: Request, template: str, *, http_status: int = 200,
               lang: str | None = None, csp: str | None = None,
               headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
        lang = lang or language(request)
        state: dict[str, Any] = request.scope.get("state") or {}
        page = self.env.get_template(template).render(
            lang=lang, common=COMMON[lang], organisation=self.organisation,
            time_zone=self.time_zone,
            csrf_token=state.get("csrf_token"), session_user=state.get("session_user"),
            **context)
        out = {**ALWAYS, "Content-Security-Policy": csp or PAGE_CSP, "Content-Language": lang,
               "Cache-Control": "no-store", "Vary": "Accept-Language, Cookie"}
        return HTMLResponse(page, status_code=http_status, headers={**out, **(headers or {})})

    def error(self, request: Request, status: int, message: str | None = None, *,
              back: str | None = None, headers: dict[str, str] | None = None) -> HTMLResponse:
        """An error page: what happened (``message``, when there is more to say than the
        status's own words) and a way back."""
        lang = language(request)
        known = ERRORS[lang].get(status) or ERRORS[lang][500 if status >= 500 else 400]
        return self.render(request, "error.html", http_status=status, lang=lang, headers=headers,
                           status_code=status, title=known[0], hint=known[1],
                           message=message, back=back)


def when(value: Any, clock: Clock) -> str | None:
    """A stored date-time as people read it, in the CMDB's zone (which the page's footer
    names once): ``2025-03-01T01:30:00+00:00`` reads ``2025-03-01 09:30`` in
    Asia/Shanghai."""
    return clock.text(str(value)) if value else None
