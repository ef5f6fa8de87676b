"""One query box for CIs: what a query looks like, and the values a CI is found by.

People paste what they have in front of them: an IP address from a ping, a MAC from a
switch's address table (``00-1A-2B-3C-4D-5E`` from Windows, ``001a.2b3c.4d5e`` from a
Cisco, ``00:1a:2b:3c:4d:5e`` from Linux), a host name from a log line, an asset tag from
a label, part of a Chinese name. The query's shape says which:

- an IPv4 or IPv6 address matches a CI holding that address, exactly (``10.1.2.3``
  does not find ``10.1.2.30``; ``2001:DB8::0:1`` finds ``2001:db8::1``);
- a MAC in any of those notations (separators required) matches that MAC, exactly;
- twelve hex digits alone (``001A2B3C4D5E``) may be a MAC or part of a serial number,
  so they match either way;
- anything else is part of the name, asset tag, serial number, a host name or the FQDN,
  case-insensitively (``web01`` finds ``web01.corp.example.cn``).

The stores keep the exact values (:func:`exact_keys`) and the searchable text
(:func:`search_text`) of each CI in an index, so an address is one index lookup.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cmdb.model.attributes import normalise_mac

#: Where a CI keeps the values the box finds it by (classes.yaml, Hardware).
IP_ATTRIBUTES = ("ip_addresses",)
MAC_ATTRIBUTES = ("mac_addresses",)
HOST_ATTRIBUTES = ("hostnames", "fqdn")

#: What separates values in a CI's search text and keys: a query never holds it (the
#: filter refuses control characters), so a match never spans two values.
SEP = "\x1f"

_MAC_NOTATION = re.compile(
    r"[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}"   # 00:1a:.. 00-1A-.. 0:1b:..
    r"|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}",                  # 001a.2b3c.4d5e (Cisco)
)
_BARE_MAC = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class SearchQuery:
    """A query box's text as the stores match it: a CI matches when it holds ``ip`` or
    ``mac``, or its search text contains ``text`` ignoring case (each only when set)."""

    ip: str | None = None
    mac: str | None = None
    text: str | None = None


def parse_search(query: str) -> SearchQuery | None:
    """What the text typed in the box asks for (``None``: nothing, an empty box)."""
    q = query.strip()
    if not q:
        return None
    low = q.lower()
    ip = _ip(q)
    if ip is not None:
        return SearchQuery(ip=ip)
    if _MAC_NOTATION.fullmatch(low):
        mac = normalise_mac(":".join(g.rjust(2, "0") for g in re.split(r"[:-]", low))
                            if "." not in low else low)
        if mac is not None:
            return SearchQuery(mac=mac)
    if _BARE_MAC.fullmatch(low):
        return SearchQuery(mac=normalise_mac(low), text=q)
    return SearchQuery(text=q)


def _ip(text: str) -> str | None:
    """``text`` as an IP address the way attributes store it, or ``None``."""
    candidate = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if not any(c in candidate for c in ".:"):
        return None
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _values(attributes: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        value = attributes.get(name)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v:
                out.append(v.lower())
    return out


def exact_keys(attributes: Mapping[str, Any]) -> list[str]:
    """The keys a CI with these attributes is found by exactly: ``ip <address>`` and
    ``mac <mac>`` (see :func:`key`)."""
    keys = [key("ip", v) for v in _values(attributes, IP_ATTRIBUTES)]
    keys += [key("mac", v) for v in _values(attributes, MAC_ATTRIBUTES)]
    return list(dict.fromkeys(keys))


def ascii_lower(text: str) -> str:
    """``text`` with A-Z in lower case and nothing else changed: what SQLite's
    ``lower()`` does, so a query meets the keys it wrote the same way."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def key(kind: str, value: str) -> str:
    return f"{kind} {value}"


def search_text(name: str, asset_tag: str | None, serial_number: str | None,
                attributes: Mapping[str, Any]) -> str:
    """The text a query is part of: name, asset tag, serial number, host names and FQDN,
    lower case, each between separators."""
    values = [name.lower(), *(v.lower() for v in (asset_tag, serial_number) if v),
              *_values(attributes, HOST_ATTRIBUTES)]
    return SEP + SEP.join(dict.fromkeys(values)) + SEP


def exact_text(attributes: Mapping[str, Any]) -> str:
    """The exact keys as one text, each between separators: ``ip 10.1.2.3`` is found as
    ``SEP + "ip 10.1.2.3" + SEP``, which no other address contains."""
    return SEP + SEP.join(exact_keys(attributes)) + SEP
