"""Who is calling, and may they: the access middleware in front of every endpoint.

For each request it finds the principal (an ``Authorization: Bearer`` token, else
the session cookie; the local demo user when ``CMDB_AUTH=none``), then applies,
in this order and each in microseconds before any endpoint runs:

1. no or bad credentials -> 401 ``UNAUTHENTICATED`` (a browser asking for a page
   is sent to ``/login`` instead); past 30 bad tokens from one address, 429;
2. the per-caller rate limit -> 429 ``RATE_LIMITED`` with ``Retry-After``;
3. the role the endpoint needs (``permissions.http_role``) -> 403 ``FORBIDDEN``;
4. a cookie-signed-in write without this session's CSRF token, or from another
   site -> 403 ``FORBIDDEN`` (see ``csrf``; in demo mode, a write from another
   origin);
5. a body whose ``Content-Type`` is not a well-formed media type -> 415; an upload
   (any ``multipart/*``, in any letter case) over ``CMDB_MAX_UPLOAD_BYTES`` or of
   undeclared size -> 413 ``LIMIT_EXCEEDED``.

The client address (for throttles and logs) is the one that connected, or the one a
trusted proxy (``CMDB_TRUSTED_PROXIES``, applied by the server) names. The principal
is left in ``request.state.principal`` for the endpoints, and for a session its CSRF
token (``csrf_token``) and user (``session_user``) for the pages. A browser gets
its refusals as a page, other clients as coded JSON (``error_pages``).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from cmdb.api.http.sessions import COOKIE
from cmdb.api.web.csrf import check_session_write, cross_site, session_token
from cmdb.api.web.error_pages import error_response
from cmdb.api.web.errors import CODES, STATUS, status_of
from cmdb.api.web.forms import BODY_KEY, replay
from cmdb.api.web.html import Html
from cmdb.api.web.media import content_type
from cmdb.api.web.metrics import Metrics
from cmdb.api.web.permissions import http_role
from cmdb.api.web.ratelimit import TokenBucket
from cmdb.errors import (
    AuthenticationError,
    CmdbError,
    LimitExceededError,
    PermissionDeniedError,
    RateLimitedError,
    StoreUnavailableError,
    UnsupportedMediaTypeError,
)
from cmdb.model.access import LOCAL, Principal, allows
from cmdb.services import Cmdb
from cmdb.services.access.service import audit_event
from cmdb.settings import Settings

PUBLIC = ("/healthz", "/readyz", "/login", "/logout", "/static/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def client_host(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def wants_page(request: Request) -> bool:
    """A browser navigating to a page (it can be sent to the sign-in page)."""
    if request.method != "GET" or "text/html" not in request.headers.get("accept", ""):
        return False
    return not (request.url.path == "/graphql" and "query" in request.query_params)


class AccessMiddleware:
    """Authentication, rate limits, roles and upload size, before any endpoint."""

    def __init__(self, app: ASGIApp, core: Cmdb, settings: Settings, html: Html,
                 metrics: Metrics) -> None:
        self.app = app
        self.core = core
        self.settings = settings
        self.html = html
        self.metrics = metrics
        self.limiter = TokenBucket(settings.rate_limit, settings.rate_burst)
        # Failed sign-ins and bad tokens, per client address: slows down guessing.
        self.failures = TokenBucket(1.0, 30)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PUBLIC) or (path == "/metrics" and self.settings.metrics_public):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            admitted = await self._admit(request, receive, send)
        except CmdbError as exc:
            await self._refuse(request, send, exc)
            return
        except HTTPException as exc:  # a page form past its bounds
            await self._answer(request, send, exc.status_code, CODES.get(exc.status_code, ""),
                               str(exc.detail))
            return
        if admitted is not None:
            await self.app(scope, admitted, send)

    async def _admit(self, request: Request, receive: Receive, send: Send) -> Receive | None:
        """The request's ``receive`` if it may reach its endpoint; a coded error where it
        may not; ``None`` when it was answered here (a browser sent to sign in)."""
        scope = request.scope
        path: str = scope["path"]
        client = client_host(scope)
        writes = scope["method"] not in SAFE_METHODS
        if self.settings.auth == "none":
            if not is_loopback(client):
                raise PermissionDeniedError("this CMDB runs in demo mode without sign-in and "
                                            "answers loopback clients only")
            why = writes and cross_site(request, self.settings.public_base_url,
                                        allow_null=False)
            if why:
                raise PermissionDeniedError(f"refused: {why} (demo mode takes writes from its "
                                            "own pages and local tools only)")
            principal: Principal | None = LOCAL
            via = "local"
        else:
            try:
                principal, via = await self._authenticate(request, client)
            except AuthenticationError:
                # good tokens from the same address still get through
                self.failures.spend(client or "?", "too many bad tokens from this address; "
                                    "wait and retry")
                raise
            except CmdbError as exc:  # the store is down: say so, as every endpoint would
                status = STATUS["STORE_UNAVAILABLE"] if isinstance(
                    exc, StoreUnavailableError) else STATUS["INTERNAL"]
                await self._answer(request, send, status, exc.code, exc.message)
                return None
        if principal is None:
            if wants_page(request):
                target = quote(path + (f"?{scope['query_string'].decode('latin-1')}"
                                       if scope.get("query_string") else ""), safe="")
                await self._send(send, 303, b"", {"Location": f"/login?next={target}"})
                return None
            raise AuthenticationError("sign in, or send Authorization: Bearer <API token> "
                                      "(see `cmdb token create`)")
        state = scope.setdefault("state", {})
        state["principal"] = principal
        try:
            self.limiter.spend(principal.key, f"{principal.name} is over "
                               f"{self.settings.rate_limit:g} requests per second; retry "
                               "after {retry} s", say_when=True)
        except RateLimitedError:
            audit_event("auth.refused", reason="rate limited", principal=principal.name)
            raise
        need = http_role(scope["method"], path)
        if not allows(principal.role, need):
            audit_event("auth.refused", reason="role", principal=principal.name,
                        role=principal.role.value, required=need.value, path=path)
            raise PermissionDeniedError(
                f"{scope['method']} {path} needs the {need.value} role; {principal.name} is "
                f"{principal.role.value}", required=need.value)
        if writes and "content-type" in request.headers and content_type(
                request.headers) is None:
            raise UnsupportedMediaTypeError("the Content-Type header is not a well-formed "
                                            "media type")
        media = content_type(request.headers)
        if media is not None and media.type == "multipart":
            size = request.headers.get("content-length", "")
            if not size.isdigit() or int(size) > self.settings.max_upload_bytes:
                raise LimitExceededError("uploads must declare a Content-Length of at most "
                                         f"{self.settings.max_upload_bytes} bytes",
                                         limit=self.settings.max_upload_bytes)
        if via == "session" and writes:
            why = await check_session_write(request, state["csrf_token"],
                                            self.settings.public_base_url)
            if why:
                audit_event("auth.refused", reason="csrf", principal=principal.name,
                            path=path, origin=request.headers.get("origin"))
                raise PermissionDeniedError(why)
            if BODY_KEY in state:  # the form was read for its token: the endpoint reads it
                receive = replay(state.pop(BODY_KEY), receive)
        return receive

    async def _authenticate(self, request: Request,
                            client: str | None) -> tuple[Principal | None, str]:
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthenticationError("use Authorization: Bearer <API token>")
            return await self.core.auth.authenticate_token(token.strip(), client), "token"
        secret = request.cookies.get(COOKIE)
        principal = await self.core.sessions.principal(secret)
        if principal is None or secret is None:
            return None, "none"
        state = request.scope.setdefault("state", {})
        state["csrf_token"] = session_token(secret)
        state["session_user"] = principal.name
        return principal, "session"

    async def _refuse(self, request: Request, send: Send, exc: CmdbError) -> None:
        """Answer a coded refusal with the status of its code."""
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimitedError):
            headers["Retry-After"] = exc.retry_after
        elif isinstance(exc, AuthenticationError):
            headers["WWW-Authenticate"] = 'Bearer realm="cmdb"'
        await self._answer(request, send, status_of(exc), exc.code, exc.message, headers,
                           **exc.details)

    async def _answer(self, request: Request, send: Send, status: int, code: str,
                      message: str, headers: dict[str, str] | None = None,
                      **ext: Any) -> None:
        scope = request.scope
        code = code or CODES.get(status, "BAD_REQUEST")
        response: Response = error_response(self.html, request, status, message, code,
                                            headers=headers, **ext)
        self.metrics.refusal(code)
        scope.setdefault("state", {})["refusal"] = code
        await response(scope, request.receive, send)

    @staticmethod
    async def _send(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
