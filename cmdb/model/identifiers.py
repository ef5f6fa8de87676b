"""The syntax of asset tags, the identifiers people print on labels and put in URLs.

An asset tag appears in URLs (``/a/{tag}``, ``/labels/{tag}.png``), in QR codes and
on printed labels, so it is checked wherever it enters (GraphQL, the pages, the
importers, the command line), with an error that says what is wrong:

- 1 to 64 characters, after the spaces around it are trimmed;
- letters of any script (Chinese, Latin, ...), digits (full-width too), and
  ``-`` ``_`` ``.`` ``#`` ``:`` ``+`` ``(`` ``)``, other dashes (``－``, ``—``) and
  single spaces inside;
- it starts with a letter, a digit or ``#``; no ``..`` anywhere;
- so no ``/``, ``\\``, ``?``, ``%``, ``&``, quotes, ``<``/``>``, control characters,
  tabs, newlines, or a lone UTF-16 surrogate.

``ZC-00002``, ``资产-2019-0012``, ``IT#4711``, ``PC 12.3``, ``ＺＣ－０１`` are tags;
``../../graphql``, ``a/b``, ``.hidden``, ``tab\\there`` are not.
"""

from __future__ import annotations

import unicodedata

from cmdb.errors import ValidationError

MAX_TAG = 64
PUNCTUATION = frozenset("-_.#:+() ")
"""Allowed besides letters, marks, numbers and dashes."""


def tag_problem(tag: str) -> str | None:
    """Why ``tag`` is not a valid asset tag, or ``None`` when it is."""
    if not tag:
        return "an asset tag must not be empty"
    if len(tag) > MAX_TAG:
        return f"an asset tag has at most {MAX_TAG} characters ({len(tag)} given)"
    if tag != tag.strip():
        return "an asset tag must not start or end with a space"
    if ".." in tag:
        return "an asset tag must not contain '..'"
    if "  " in tag:
        return "an asset tag must not contain two spaces in a row"
    for position, char in enumerate(tag, start=1):
        kind = unicodedata.category(char)
        if kind[0] in "LMN" or kind == "Pd" or char in PUNCTUATION:
            if position == 1 and not (kind[0] in "LN" or char == "#"):
                return f"an asset tag starts with a letter, a digit or '#', not {char!r}"
            continue
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        return (f"an asset tag may hold letters, digits, spaces and - _ . # : + ( ), "
                f"not {shown} (position {position})")
    return None


def check_asset_tag(tag: str, field: str = "asset_tag") -> str:
    """``tag`` if it is a valid asset tag, else a ``ValidationError`` naming ``field``."""
    problem = tag_problem(tag)
    if problem:
        raise ValidationError(f"{field}: {problem}", field=field, value=tag[:100])
    return tag
