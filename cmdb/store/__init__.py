"""Stores: the port (``base``) and its adapters (``sqlite``, ``neo4j``).

``store_from_url`` picks the adapter from one URL-like setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cmdb.errors import ValidationError
from cmdb.store.base import Store, StoreTx

__all__ = ["Store", "StoreTx", "store_from_url"]


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative/or/absolute`` URL (``sqlite:////abs`` is absolute)."""
    return Path(unquote(url[len("sqlite:///"):]))


NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


def store_from_url(
    url: str, *, user: str | None = None, password: str | None = None,
    relationship_types: Sequence[str] = (), database: str | None = None,
    timeout: float = 5.0, file_group: str | None = None,
) -> Store:
    """The store a URL names: ``sqlite:///path`` or ``neo4j://``, ``bolt://``, ``neo4j+s://``.

    Neo4j credentials come separately (never inside the URL, so it can be logged);
    the adapter needs the relationship types to create their indexes.
    """
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///"):
            raise ValidationError(
                "a SQLite URL looks like sqlite:///cmdb.sqlite3 or sqlite:////var/lib/cmdb.sqlite3",
                field="store_url",
            )
        from cmdb.store.sqlite.store import SqliteStore

        return SqliteStore(sqlite_path(url), file_group=file_group)
    if scheme in NEO4J_SCHEMES:
        from cmdb.store.neo4j.store import Neo4jStore

        parts = urlsplit(url)
        if parts.username or parts.password:
            raise ValidationError(
                "put Neo4j credentials in CMDB_STORE_USER / CMDB_STORE_PASSWORD, not in the URL",
                field="store_url",
            )
        auth = (user, password) if user and password else None
        return Neo4jStore(url, auth, relationship_types, database=database, timeout=timeout)
    raise ValidationError(
        f"unsupported store URL scheme {scheme!r}; use sqlite:///path or neo4j://host:7687",
        field="store_url",
    )
