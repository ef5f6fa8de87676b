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


def load_json(raw: bytes | str, what: str = "the body", *,
              max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``raw`` (``what`` names it in errors) into Python values."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = str(exc).split(":", 1)[0]
        if "depth limit" in reason or "recursion" in reason:
            raise LimitExceededError(f"{what} is nested more than {max_depth} levels deep",
                                     field=what, limit=max_depth) from None
        raise ValidationError(f"{what} is not valid JSON: {reason}", field=what) from None
    check_value(value, what, max_depth=max_depth)
    return value


def check_value(value: Any, what: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``max_depth`` and integers beyond 64 bits, iteratively."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise LimitExceededError(f"{what} is nested more than {max_depth} levels deep",
                                         field=what, limit=max_depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children
                         if isinstance(child, dict | list | int))
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
            raise ValidationError(f"{what} holds a number too large for 64 bits", field=what)
