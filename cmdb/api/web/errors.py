"""Turning errors into what a client sees: coded, readable, internals masked.

:data:`STATUS` is the one table of HTTP statuses: every answer outside GraphQL's own
(the JSON endpoints, the pages, the access middleware's refusals) takes its status
from the code it carries, through :func:`status_of`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import pydantic
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cmdb.errors import CmdbError, from_pydantic

log = logging.getLogger("cmdb.api")

#: The HTTP status of each code an answer carries (the codes of :mod:`cmdb.errors`, and
#: those of HTTP's own refusals). The first code listed for a status is the one an HTTP
#: error of that status (an unknown address: 404) is answered with.
STATUS: dict[str, int] = {
    "BAD_REQUEST": 400, "VALIDATION_ERROR": 400, "UNKNOWN_CLASS": 400,
    "RELATIONSHIP_NOT_ALLOWED": 400, "RESERVED_FIELD": 400, "LABEL_ERROR": 400,
    "IMPORT_REJECTED": 400, "INVALID_TRANSITION": 400, "SCHEMA_ERROR": 400,
    "LOAD_INCOMPLETE": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404, "NO_CMDB": 404,
    "METHOD_NOT_ALLOWED": 405,
    "NOT_ACCEPTABLE": 406,
    "CONFLICT": 409, "VERSION_CONFLICT": 409, "DUPLICATE": 409,
    "LIMIT_EXCEEDED": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "RATE_LIMITED": 429,
    "INTERNAL": 500,
    "STORE_UNAVAILABLE": 503,
}
#: The code an HTTP error of a status is answered with (the table read backwards).
CODES: dict[int, str] = {status: code for code, status in reversed(STATUS.items())}
#: The JSON endpoints (labels, imports) have answered a bound exceeded (a batch, a body
#: nested too deep) with 400 since they were written; their clients rely on it.
JSON_ENDPOINT_STATUS: dict[str, int] = {"LIMIT_EXCEEDED": 400}

Handler = Callable[[Request], Awaitable[Response]]


def status_of(error: CmdbError, overrides: Mapping[str, int] | None = None) -> int:
    """The status of ``error``: its code's, else that of the nearest class whose code is in
    the table (a label or importer code is a 400 through its class), else 400."""
    table = {**STATUS, **overrides} if overrides else STATUS
    codes = [error.code, *(k.code for k in type(error).__mro__
                           if issubclass(k, CmdbError) and k is not CmdbError)]
    return next((table[c] for c in codes if c in table), 400)


def json_error(exc: CmdbError, overrides: Mapping[str, int] | None = None) -> JSONResponse:
    """A coded error as JSON, with the status of its code."""
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    if exc.details:
        body["details"] = json.loads(json.dumps(exc.details, default=str))
    return JSONResponse(body, status_code=status_of(exc, overrides))


def coded_errors(handler: Handler) -> Handler:
    """Answer every failure of a JSON endpoint as coded JSON; internals go to the log only."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except CmdbError as exc:
            return json_error(exc, JSON_ENDPOINT_STATUS)
        except Exception:
            log.exception("internal error serving %s", request.url.path)
            return JSONResponse({"code": "INTERNAL", "message": "Internal server error"},
                                status_code=STATUS["INTERNAL"])

    return wrapped
MASKED = "Internal server error"
MAX_MESSAGE = 1000
"""Longest error message sent back: graphql-core quotes the offending value whole (a
100,000-digit number, a 900 KB string), and the client already has it."""


def _cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"


def format_error(error: GraphQLError) -> dict[str, Any]:
    """One entry of a response's ``errors``, with ``extensions.code`` always set."""
    out: dict[str, Any] = {}
    original = error.original_error
    if isinstance(original, pydantic.ValidationError):
        # a service refusing a value through its pydantic model: the caller's mistake
        original = from_pydantic(original)
    if isinstance(original, CmdbError):
        out["message"] = original.message
        out["extensions"] = {"code": original.code, **_jsonable(original.details)}
    elif isinstance(original, GraphQLError):
        # graphql-core wraps bad variable values (e.g. an input object missing a field) in
        # a second GraphQLError: the client's mistake, said plainly, not an internal error.
        out["message"] = error.message
        out["extensions"] = {"code": "BAD_USER_INPUT", **(original.extensions or {})}
    elif original is not None and error.path is None:
        # Raised before any resolver ran (a literal graphql-core cannot coerce, such as
        # a 100,000-digit Int): the request is at fault, and nothing internal shows.
        out["message"] = error.message
        out["extensions"] = {"code": "BAD_USER_INPUT"}
    elif original is not None:
        out["message"] = MASKED
        out["extensions"] = {"code": "INTERNAL"}
    else:
        out["message"] = error.message
        ext = dict(error.extensions or {})
        ext.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
        out["extensions"] = ext
    out["message"] = _cut(out["message"])
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    return out


def request_error(message: str, code: str = "BAD_REQUEST", **ext: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **ext}}


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float | bool | list | type(None)) else str(v)
            for k, v in details.items()}
