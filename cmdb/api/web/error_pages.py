"""Errors as a browser sees them (an HTML page) or a client does (coded JSON).

Whatever goes wrong outside GraphQL's own answers (an unknown address, a method an
address does not take, a refused form, an internal error) is answered here: a
person's browser (it asks for ``text/html``) gets a page in its language rendered
from ``error.html``, with nothing of the request echoed as markup; other clients get
``{"code": ..., "message": ...}`` (on ``/graphql``, the GraphQL ``errors`` shape).
Internal errors are masked in both: the traceback goes to the log only.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pydantic
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cmdb.api.web.errors import CODES, status_of
from cmdb.api.web.headers import ALWAYS
from cmdb.api.web.html import Html
from cmdb.errors import CmdbError, from_pydantic

MASKED = "Internal server error"


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser asking for a page (``text/html`` acceptable)."""
    for part in request.headers.get("accept", "").split(",")[:50]:
        media, _, params = part.partition(";")
        if media.strip().lower() in ("text/html", "application/xhtml+xml"):
            return _quality(params) > 0
    return False


def error_response(html: Html, request: Request, status: int, message: str | None = None,
                   code: str | None = None, *, back: str | None = None,
                   headers: dict[str, str] | None = None, **ext: Any) -> Response:
    """The error answer that suits the caller (see the module's docstring)."""
    code = code or CODES.get(status, "BAD_REQUEST" if status < 500 else "INTERNAL")
    if wants_html(request) and request.url.path != "/graphql":
        return html.error(request, status, message, back=back, headers=headers)
    text = message or HTTPStatus(status).phrase
    body: dict[str, Any]
    if request.url.path == "/graphql":
        body = {"errors": [{"message": text, "extensions": {"code": code, **ext}}]}
    else:
        body = {"code": code, "message": text, **ext}
    return JSONResponse(body, status_code=status, headers={**ALWAYS, **(headers or {})})


def exception_handlers(html: Html) -> dict[Any, Any]:
    """Starlette's handlers for HTTP errors (404, 405, bad forms...) and internal ones."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        phrase = HTTPStatus(exc.status_code).phrase
        message = exc.detail if exc.detail and exc.detail != phrase else None
        return error_response(html, request, exc.status_code, message,
                              headers=dict(exc.headers or {}))

    async def coded(request: Request, exc: Exception) -> Response:
        """A CMDB error (or a pydantic refusal) an endpoint let through: its own code and
        the status of its kind, never a 500."""
        error = from_pydantic(exc) if isinstance(exc, pydantic.ValidationError) else exc
        assert isinstance(error, CmdbError)
        return error_response(html, request, status_of(error), error.message, error.code)

    async def internal(request: Request, exc: Exception) -> Response:
        # The server logs the traceback: Starlette raises the error again once answered.
        return error_response(html, request, 500, MASKED)

    return {HTTPException: http_error, CmdbError: coded, pydantic.ValidationError: coded,
            Exception: internal}
