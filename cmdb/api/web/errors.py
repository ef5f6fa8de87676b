"""Turning errors into what a GraphQL client sees: coded, readable, internals masked."""

from __future__ import annotations

import logging
from typing import Any

import pydantic
from graphql import GraphQLError

from cmdb.errors import CmdbError, from_pydantic

log = logging.getLogger("cmdb.api")
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
