"""Media types (``Content-Type``) read the way RFC 9110 (section 8.3.1) writes them.

``type "/" subtype *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )``: type,
subtype and parameter names are case-insensitive (``Multipart/Form-Data`` is
``multipart/form-data``), a parameter value may be quoted, and so is a ``charset``
value. Every endpoint that looks at what a request body is asks :func:`content_type`;
a header that does not parse is no media type at all, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.datastructures import Headers

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # noqa: S105 - RFC 9110's token characters
_TYPE = re.compile(rf"[ \t]*({_TOKEN})/({_TOKEN})[ \t]*")
_PARAM = re.compile(
    rf';[ \t]*(?:({_TOKEN})=({_TOKEN}|"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t -~\x80-\xff])*"))?'
    r"[ \t]*")
_ESCAPE = re.compile(r"\\(.)")

FORM = "application/x-www-form-urlencoded"
MULTIPART_FORM = "multipart/form-data"
JSON = "application/json"


@dataclass(frozen=True)
class MediaType:
    """A parsed media type: lower-case ``type`` and ``subtype``, parameters by lower-case
    name (a ``charset`` value lower-cased too; other values as sent)."""

    type: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def essence(self) -> str:
        """``type/subtype``, what most checks compare."""
        return f"{self.type}/{self.subtype}"

    @property
    def charset(self) -> str | None:
        return self.params.get("charset")

    def __str__(self) -> str:
        return self.essence


def parse_media_type(value: str | None) -> MediaType | None:
    """The media type in a ``Content-Type`` value; None when absent or malformed."""
    if not value or len(value) > 1024:
        return None
    head = _TYPE.match(value)
    if head is None:
        return None
    params: dict[str, str] = {}
    pos = head.end()
    while pos < len(value):
        param = _PARAM.match(value, pos)
        if param is None:
            return None
        pos = param.end()
        name, raw = param.group(1), param.group(2)
        if name is None:
            continue  # an empty parameter (``;;``) is allowed and means nothing
        name = name.lower()
        text = _ESCAPE.sub(r"\1", raw[1:-1]) if raw.startswith('"') else raw
        if name in params:
            if params[name] != (text.lower() if name == "charset" else text):
                return None  # two different values for one parameter: ambiguous
            continue
        params[name] = text.lower() if name == "charset" else text
    return MediaType(head.group(1).lower(), head.group(2).lower(), params)


def content_type(headers: Headers) -> MediaType | None:
    """The request body's media type, if it declares a well-formed one."""
    return parse_media_type(headers.get("content-type"))
