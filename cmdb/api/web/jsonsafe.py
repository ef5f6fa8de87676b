"""Reading JSON that a client sent: bounded in nesting, numbers and text, never a crash.

The standard library's ``json`` recurses once per nesting level (a body nested
100,000 deep raised ``RecursionError``, an internal error), turns a 100,000-digit
number into an ``int`` (then fails converting it back), and accepts lone UTF-16
surrogates (``"\\ud800"``) that no UTF-8 encoder takes later. :func:`load_json` reads
with orjson, which refuses lone surrogates, ``NaN``/``Infinity`` and more than 1,024
levels, then bounds the nesting to ``MAX_DEPTH`` and integers to 64 bits in one
iterative pass. Every refusal is a coded error naming what is wrong.
"""

from __future__ import annotations

from typing import Any

import orjson

from cmdb.errors import LimitExceededError, ValidationError

MAX_DEPTH = 32
MAX_INT = 2**63 - 1
MAX_STRING = 100_000
"""The longest text any field takes (a ``text`` attribute); every narrower bound is the
service's to check, with the field's name."""


def load_json(raw: bytes | str, what: str = "the body", *,
              max_depth: int = MAX_DEPTH, max_string: int | None = MAX_STRING) -> Any:
    """Parse ``raw`` (``what`` names it in errors) into Python values; ``max_string=None``
    leaves the texts to the caller (a GraphQL document has bounds of its own)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = str(exc).split(":", 1)[0]
        if "depth limit" in reason or "recursion" in reason:
            raise LimitExceededError(f"{what} is nested more than {max_depth} levels deep",
                                     field=what, limit=max_depth) from None
        raise ValidationError(f"{what} is not valid JSON: {reason}", field=what) from None
    check_value(value, what, max_depth=max_depth, max_string=max_string)
    return value


def check_value(value: Any, what: str, *, max_depth: int = MAX_DEPTH,
                max_string: int | None = MAX_STRING) -> None:
    """Refuse nesting deeper than ``max_depth``, integers beyond 64 bits and texts longer
    than ``MAX_STRING``, iteratively."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise LimitExceededError(f"{what} is nested more than {max_depth} levels deep",
                                         field=what, limit=max_depth)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list | int | str))
        elif isinstance(item, str):
            if max_string is not None and len(item) > max_string:
                raise LimitExceededError(
                    f"{what} holds a text of {len(item)} characters; no field takes more "
                    f"than {max_string}", field=what, limit=max_string)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
            raise ValidationError(f"{what} holds a number too large for 64 bits", field=what)
