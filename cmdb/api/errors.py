"""Turning errors into what a GraphQL client sees: coded, readable, internals masked."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from cmdb.errors import CmdbError

log = logging.getLogger("cmdb.api")
MASKED = "Internal server error"


def format_error(error: GraphQLError) -> dict[str, Any]:
    """One entry of a response's ``errors``, with ``extensions.code`` always set."""
    out: dict[str, Any] = {}
    original = error.original_error
    if isinstance(original, CmdbError):
        out["message"] = original.message
        out["extensions"] = {"code": original.code, **_jsonable(original.details)}
    elif isinstance(original, GraphQLError):
        # graphql-core wraps bad variable values (e.g. an input object missing a field) in
        # a second GraphQLError: the client's mistake, said plainly, not an internal error.
        out["message"] = error.message
        out["extensions"] = {"code": "BAD_USER_INPUT", **(original.extensions or {})}
    elif original is not None:
        out["message"] = MASKED
        out["extensions"] = {"code": "INTERNAL"}
    else:
        out["message"] = error.message
        ext = dict(error.extensions or {})
        ext.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
        out["extensions"] = ext
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
