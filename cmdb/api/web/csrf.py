"""Cross-site request forgery: every cookie-authenticated write must prove it came from
one of this CMDB's own pages.

- **Signed-in writes** carry the session's CSRF token: a page form in its
  ``csrf_token`` field, a script (GraphiQL) in the ``X-CSRF-Token`` header. The token
  is an HMAC of the session's secret, so it lives and dies with the session, differs
  between sessions, and can be computed only by whoever holds the cookie (which
  another site's page cannot read).
- **The sign-in form** has no session yet: ``GET /login`` gives the browser a random
  nonce in a ``SameSite=Strict`` cookie and the form an HMAC of it under the CMDB's
  signing key (a signed double-submit token), so another site cannot sign a browser
  in to an account of its choosing.
- Whatever the token, a write whose ``Origin`` names another site, or that the
  browser marks ``Sec-Fetch-Site: cross-site``, is refused. ``Origin: null`` (a
  privacy-minded browser, a sandboxed frame) is accepted only with a valid token.
- ``Authorization: Bearer`` calls need no token: no browser adds that header to a
  forged request. Demo mode (no sign-in, loopback only) has no session to tie a
  token to; it refuses writes from another origin, ``null`` included.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

from cmdb.api.web.forms import read_page_form
from cmdb.api.web.media import FORM, content_type

HEADER = "x-csrf-token"
FIELD = "csrf_token"
SIGNIN_COOKIE = "cmdb_signin"


def _mac(key: bytes, message: bytes) -> str:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def session_token(session_secret: str) -> str:
    """The CSRF token of the session whose cookie holds ``session_secret``."""
    return _mac(session_secret.encode("ascii"), b"cmdb csrf token v1")


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def signin_token(key: bytes, nonce: str) -> str:
    """The sign-in form's token for the browser holding ``nonce`` in its cookie."""
    return _mac(key, b"cmdb sign-in v1 " + nonce.encode("ascii", "replace"))


def same_token(sent: str | None, expected: str | None) -> bool:
    return bool(sent and expected and len(sent) < 200
                and hmac.compare_digest(sent.encode("ascii", "replace"),
                                        expected.encode("ascii")))


def own_origin(request: Request, origin: str, public_base_url: str) -> bool:
    """Whether an ``Origin`` value names this server (as reached, or as published)."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    netloc = parts.netloc.lower()
    return netloc in (request.headers.get("host", "").lower(),
                      urlsplit(public_base_url).netloc.lower())


def cross_site(request: Request, public_base_url: str, allow_null: bool) -> str | None:
    """Why a write looks as if another site sent it, or None if it does not."""
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        return "the browser says another site sent this request"
    origin = request.headers.get("origin")
    if origin is None:
        return None  # browsers send Origin on every cross-site write; scripts need not
    if origin == "null":
        return None if allow_null else "the request comes from an unnamed origin"
    if not own_origin(request, origin, public_base_url):
        return "the request comes from another site"
    return None


async def sent_token(request: Request) -> str | None:
    """The token a write carries: its header, else a page form's field (the form is read
    within the page-form bounds, and kept for the endpoint)."""
    header = request.headers.get(HEADER)
    if header is not None:
        return header
    media = content_type(request.headers)
    if media is not None and media.essence == FORM:
        value = (await read_page_form(request)).get(FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_session_write(request: Request, expected: str,
                              public_base_url: str) -> str | None:
    """Why a signed-in write is refused, or None when it carries ``expected`` and comes
    from this site."""
    why = cross_site(request, public_base_url, allow_null=True)
    if why:
        return why
    if not same_token(await sent_token(request), expected):
        return ("a signed-in write needs this session's CSRF token (the page form's "
                "csrf_token field, or the X-CSRF-Token header): reload the page and retry")
    return None
