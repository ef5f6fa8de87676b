"""Bounds on the free text the CMDB accepts, wherever it comes from.

Names, reasons, notes and descriptions arrive through GraphQL, the pages, the importers
and the command line, and end up in history, findings, reports and labels. Each kind
has one bound, checked where it enters a service, with an error naming the field and
the bound. Text must also be valid Unicode: a lone UTF-16 surrogate (``\\ud800``, which
JSON and Python strings can carry but UTF-8 cannot) is refused, as are NUL and, in
one-line text, other control characters.
"""

from __future__ import annotations

import re

from cmdb.errors import ValidationError

NAME = 200
"""A CI's, a campaign's or a place's name, a change's title."""
SHORT = 500
"""A condition, an auditor, a place written as a path, a class or person named."""
REASON = 2_000
"""A reason (for a change, a transition, a resolution), a sighting's note."""
DESCRIPTION = 10_000
"""A change's description."""
SEARCH = 200
"""A search text."""
FILE_NAME = 255
"""An uploaded file's name."""

_INVALID = re.compile(r"[\x00\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def check_text(value: str | None, field: str, limit: int, *,
               single_line: bool = False) -> str | None:
    """``value`` if it is within ``limit`` characters and valid text, else a
    ``ValidationError`` naming ``field``; ``None`` passes."""
    if value is None:
        return None
    if len(value) > limit:
        raise ValidationError(f"{field}: at most {limit} characters ({len(value)} given)",
                              field=field, limit=limit)
    bad = (_CONTROL if single_line else _INVALID).search(value)
    if bad:
        what = ("a lone UTF-16 surrogate (not valid Unicode)"
                if "\ud800" <= bad.group() <= "\udfff" else
                f"a control character (U+{ord(bad.group()):04X})")
        raise ValidationError(f"{field}: contains {what} at position {bad.start() + 1}",
                              field=field)
    return value

