"""Who is calling, and may they: the access middleware in front of every endpoint.

For each request it finds the principal (an ``Authorization: Bearer`` token, else
the sign-in cookie; the local demo user when ``CMDB_AUTH=none``), then applies,
in this order and each in microseconds before any endpoint runs:

1. no or bad credentials -> 401 ``UNAUTHENTICATED`` (a browser asking for a page
   is sent to ``/login`` instead); past 30 bad tokens from one address, 429;
2. the per-caller rate limit -> 429 ``RATE_LIMITED`` with ``Retry-After``;
3. the role the endpoint needs (``permissions.http_role``) -> 403 ``FORBIDDEN``;
4. a cookie-signed-in write from another site -> 403 ``FORBIDDEN``;
5. an upload over ``CMDB_MAX_UPLOAD_BYTES`` -> 413 ``LIMIT_EXCEEDED``.

The principal is left in ``request.state.principal`` for the endpoints.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cmdb.api.metrics import Metrics
from cmdb.api.permissions import http_role
from cmdb.api.ratelimit import TokenBucket, retry_after
from cmdb.api.sessions import COOKIE, SessionSigner
from cmdb.errors import AuthenticationError, CmdbError, StoreUnavailableError
from cmdb.model.access import LOCAL, Principal, allows
from cmdb.services import Cmdb
from cmdb.services.auth import audit_event
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

    def __init__(self, app: ASGIApp, core: Cmdb, settings: Settings, signer: SessionSigner,
                 metrics: Metrics) -> None:
        self.app = app
        self.core = core
        self.settings = settings
        self.signer = signer
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
        request = Request(scope)
        client = client_host(scope)
        if self.settings.auth == "none":
            if not is_loopback(client):
                await self._refuse(scope, send, 403, "FORBIDDEN", "this CMDB runs in demo mode "
                                   "without sign-in and answers loopback clients only")
                return
            principal: Principal | None = LOCAL
            via = "local"
        else:
            try:
                principal, via = await self._authenticate(request, client)
            except AuthenticationError as exc:
                wait = self.failures.take(client or "?")
                if wait:  # good tokens from the same address still get through
                    await self._refuse(scope, send, 429, "RATE_LIMITED", "too many bad tokens "
                                       "from this address; wait and retry",
                                       {"Retry-After": retry_after(wait)})
                    return
                await self._refuse(scope, send, 401, exc.code, exc.message,
                                   {"WWW-Authenticate": 'Bearer realm="cmdb"'})
                return
            except CmdbError as exc:  # the store is down: say so, as every endpoint would
                status = 503 if isinstance(exc, StoreUnavailableError) else 500
                await self._refuse(scope, send, status, exc.code, exc.message)
                return
        if principal is None:
            if wants_page(request):
                target = quote(path + (f"?{scope['query_string'].decode()}"
                                       if scope.get("query_string") else ""), safe="")
                await self._send(send, 303, b"", {"Location": f"/login?next={target}"})
                return
            await self._refuse(scope, send, 401, "UNAUTHENTICATED", "sign in, or send "
                               "Authorization: Bearer <API token> (see `cmdb token create`)",
                               {"WWW-Authenticate": 'Bearer realm="cmdb"'})
            return
        scope.setdefault("state", {})["principal"] = principal
        wait = self.limiter.take(principal.key)
        if wait:
            audit_event("auth.refused", reason="rate limited", principal=principal.name)
            await self._refuse(scope, send, 429, "RATE_LIMITED",
                               f"{principal.name} is over {self.settings.rate_limit:g} requests "
                               f"per second; retry after {retry_after(wait)} s",
                               {"Retry-After": retry_after(wait)},
                               retryAfter=int(retry_after(wait)))
            return
        need = http_role(scope["method"], path)
        if not allows(principal.role, need):
            audit_event("auth.refused", reason="role", principal=principal.name,
                        role=principal.role.value, required=need.value, path=path)
            await self._refuse(scope, send, 403, "FORBIDDEN", f"{scope['method']} {path} "
                               f"needs the {need.value} role; {principal.name} is "
                               f"{principal.role.value}", required=need.value)
            return
        if via == "session" and scope["method"] not in SAFE_METHODS and not self._same_site(
                request):
            await self._refuse(scope, send, 403, "FORBIDDEN", "a signed-in write must come "
                               "from this site's own pages")
            return
        if request.headers.get("content-type", "").startswith("multipart/"):
            size = request.headers.get("content-length", "")
            if not size.isdigit() or int(size) > self.settings.max_upload_bytes:
                await self._refuse(scope, send, 413, "LIMIT_EXCEEDED", "uploads must declare "
                                   f"a Content-Length of at most {self.settings.max_upload_bytes}"
                                   " bytes", limit=self.settings.max_upload_bytes)
                return
        await self.app(scope, receive, send)

    async def _authenticate(self, request: Request,
                            client: str | None) -> tuple[Principal | None, str]:
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthenticationError("use Authorization: Bearer <API token>")
            return await self.core.auth.authenticate_token(token.strip(), client), "token"
        user_id = self.signer.loads(request.cookies.get(COOKIE))
        if user_id is None:
            return None, "none"
        return await self.core.auth.session_principal(user_id), "session"

    @staticmethod
    def _same_site(request: Request) -> bool:
        origin = request.headers.get("origin") or request.headers.get("referer")
        if origin is None:
            return True  # browsers always send Origin on cross-site writes; scripts need not
        return urlsplit(origin).netloc == request.headers.get("host")

    async def _refuse(self, scope: Scope, send: Send, status: int, code: str, message: str,
                      headers: dict[str, str] | None = None, **ext: Any) -> None:
        self.metrics.refusal(code)
        scope.setdefault("state", {})["refusal"] = code
        if scope["path"] == "/graphql":
            body: dict[str, Any] = {"errors": [{"message": message,
                                                "extensions": {"code": code, **ext}}]}
        else:
            body = {"code": code, "message": message, **ext}
        payload = json.dumps(body, ensure_ascii=False).encode()
        await self._send(send, status, payload,
                         {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @staticmethod
    async def _send(send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
