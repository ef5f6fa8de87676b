"""Stores: the port (``base``) and its adapters (``sqlite``, ``neo4j``).

``store_from_url`` picks the adapter from one URL-like setting.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from cmdb.errors import ValidationError
from cmdb.store.base import Store, StoreTx

__all__ = ["Store", "StoreTx", "store_from_url"]


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative/or/absolute`` URL (``sqlite:////abs`` is absolute)."""
    return Path(unquote(url[len("sqlite:///"):]))


def store_from_url(url: str) -> Store:
    """The store a URL names: ``sqlite:///path`` or ``neo4j://``, ``bolt://``, ``neo4j+s://``."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///"):
            raise ValidationError(
                "a SQLite URL looks like sqlite:///cmdb.sqlite3 or sqlite:////var/lib/cmdb.sqlite3",
                field="store_url",
            )
        from cmdb.store.sqlite import SqliteStore

        return SqliteStore(sqlite_path(url))
    raise ValidationError(
        f"unsupported store URL scheme {scheme!r}; use sqlite:///path", field="store_url"
    )
