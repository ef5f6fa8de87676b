"""Security headers on every answer, set in one place.

Every response gets ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
``Referrer-Policy: same-origin`` (our own pages' form posts then carry their real
``Origin``; other sites learn nothing). Every HTML (and SVG) response also gets a
Content-Security-Policy: :data:`PAGE_CSP` unless the page set its own (GraphiQL's
:data:`GRAPHIQL_CSP` allows its scripts, from this server only); an SVG label gets
:data:`IMAGE_CSP` (its logo is an embedded PNG, nothing runs). All of them forbid
framing (``frame-ancestors 'none'``), a ``<base>`` (``base-uri 'none'``) and forms
posting anywhere but here (``form-action 'self'``).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cmdb.api.web.media import parse_media_type

_FENCE = "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
PAGE_CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; {_FENCE}"
GRAPHIQL_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                f"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; {_FENCE}")
IMAGE_CSP = f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; {_FENCE}"
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
ACTIVE = {"text/html": PAGE_CSP, "application/xhtml+xml": PAGE_CSP,
          "image/svg+xml": IMAGE_CSP, "text/xml": IMAGE_CSP, "application/xml": IMAGE_CSP}


class SecurityHeadersMiddleware:
    """Adds the headers above to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    if name not in headers:
                        headers[name] = value
                media = parse_media_type(headers.get("content-type"))
                policy = ACTIVE.get(media.essence) if media else None
                if policy and "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = policy
            await send(message)

        await self.app(scope, receive, send_with_headers)
