"""Scratch space on local disk: what a long-running job must remember but need not keep.

A million-row import remembers every identifying value its earlier records used (the
in-file duplicate check); kept in memory that alone would outgrow the import's memory
bound. :class:`DiskKeys` keeps such keys in a private temporary SQLite file, which the
operating system deletes when it is closed. It is the same for every store adapter: it
is never the CMDB's database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from cmdb.store.base import ScratchKeys

SQL_VARIABLES = 900


class DiskKeys(ScratchKeys):
    """Keys and the line of the record that first used each, on disk."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = a private temporary on-disk database
        self.db.execute("PRAGMA cache_size=-4000")
        self.db.execute("CREATE TABLE k (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    def lines(self, keys: Sequence[str]) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for i in range(0, len(keys), SQL_VARIABLES):
            part = list(keys[i:i + SQL_VARIABLES])
            marks = ",".join("?" * len(part))
            out.update(self.db.execute(
                f"SELECT key, line FROM k WHERE key IN ({marks})", part).fetchall())  # noqa: S608 - only placeholders
        return out

    def add(self, items: Iterable[tuple[str, int | None]]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO k VALUES (?, ?)", items)

    def close(self) -> None:
        self.db.close()
