"""The browser's sign-in cookie: it holds a session's random secret, nothing else.

The session itself (who, since when, until when, ended or not) is kept in the store
by :mod:`cmdb.services.access.sessions`, so signing out, disabling the user, a password
change or "sign out everywhere" end it at once, whichever server process the browser
reaches next. The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Lax`` (sent
when a label's QR link opens a page, not on another site's form posts) and ``Secure``
when the CMDB is reached over https.
"""

from __future__ import annotations

from starlette.requests import Request

COOKIE = "cmdb_session"


def is_secure(request: Request, public_base_url: str) -> bool:
    """Whether cookies must be ``Secure``: the CMDB is reached over https (directly, or
    through a trusted proxy saying so), or published at an https address."""
    return request.url.scheme == "https" or public_base_url.startswith("https:")


def cookie(name: str, value: str, max_age: int, secure: bool, *, same_site: str = "Lax",
           path: str = "/") -> str:
    """A ``Set-Cookie`` value for one of the CMDB's cookies (always ``HttpOnly``)."""
    return (f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; "
            f"SameSite={same_site}{'; Secure' if secure else ''}")


def session_cookie(secret: str, hours: float, secure: bool) -> str:
    return cookie(COOKIE, secret, int(hours * 3600), secure)


def clear_session_cookie(secure: bool) -> str:
    return cookie(COOKIE, "", 0, secure)
