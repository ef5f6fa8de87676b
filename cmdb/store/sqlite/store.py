"""The embedded store: one SQLite file in WAL mode, zero set-up.

Writes go through one connection, serialised by a lock and run as ``BEGIN IMMEDIATE``
transactions (``cmdb.store.sqlite.tx``); reads use a second connection that sees the
last committed state. A page of a list is keyset-paged (``cmdb.store.sqlite.lists``);
a traversal is one recursive CTE (``cmdb.store.sqlite.closure``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from cmdb.errors import NoCmdbError, StoreUnavailableError
from cmdb.files import create_private, tighten
from cmdb.model import jsontext
from cmdb.model.queries import (
    CIFacts,
    CIOrder,
    CISelection,
    ClosureResult,
    Cursor,
    FactKey,
    Page,
    RelationshipEnds,
)
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship
from cmdb.store.base import Direction, KeyField, ScratchKeys, Store, StoreTx, counted, timed
from cmdb.store.scratch import DiskKeys
from cmdb.store.sqlite import lists
from cmdb.store.sqlite.closure import closure as sqlite_closure
from cmdb.store.sqlite.facts import ci_facts
from cmdb.store.sqlite.schema import MIGRATIONS
from cmdb.store.sqlite.sql import (
    CI_COLUMNS,
    DOC_COLUMNS,
    REL_COLUMNS,
    _ci,
    _doc,
    _get_cis,
    _get_docs,
    _get_relationships,
    _history,
    _json_list,
    _rel,
    _relationships_of,
    _unavailable,
    ts,
)
from cmdb.store.sqlite.threads import ConnectionThread, ReaderPool, drive, off_loop
from cmdb.store.sqlite.tx import SqliteTx

T = TypeVar("T")
READERS = 3
ITER_PAGE = 2000


class SqliteStore(Store):
    """The CMDB in one SQLite file."""

    kind = "sqlite"

    def __init__(self, path: Path | str, *, readers: int = READERS,
                 file_group: str | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.file_group = file_group
        self._readers = readers
        self._writer: ConnectionThread | None = None
        self._reader_pool: ReaderPool | None = None
        self._reader_conn = threading.local()

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: a connection never creates the file (open() does, when asked to).
        conn = sqlite3.connect(
            f"file:{quote(str(self.path.absolute()))}?mode=rw", uri=True,
            isolation_level=None, check_same_thread=False, timeout=10.0,
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    async def open(self, *, create: bool = True) -> None:
        """Open the file, creating it (private, see ``cmdb.files``) only when ``create``;
        otherwise a missing file, or one that holds no CMDB, is ``NoCmdbError``."""
        if self._writer is not None:
            return
        await asyncio.to_thread(self._prepare, create)
        writer = ConnectionThread(self._connect, f"sqlite-writer {self.path.name}")
        try:
            await writer.start()
            await writer.run(self._migrate)
            pool = ReaderPool(self._connect, self._readers, self.path.name,
                              self._reader_conn)
            await pool.start()
        except BaseException:
            await writer.stop()
            raise
        self._writer, self._reader_pool = writer, pool

    def _prepare(self, create: bool) -> None:
        """Make sure the file exists and is ours, before any connection opens it."""
        with _unavailable():
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if create_private(self.path, self.file_group):
                    return
            elif not self.path.is_file():
                raise NoCmdbError(f"no CMDB at {self.path}", path=str(self.path))
            for suffix in ("", "-wal", "-shm"):
                tighten(Path(f"{self.path}{suffix}"))
            if create:
                return
            try:
                probe = sqlite3.connect(f"file:{quote(str(self.path.absolute()))}?mode=ro",
                                        uri=True)
                try:
                    found = probe.execute(
                        "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                        " AND name = 'schema_migrations'").fetchone()
                finally:
                    probe.close()
            except sqlite3.DatabaseError as exc:
                raise NoCmdbError(f"no CMDB at {self.path}: not a SQLite database ({exc})",
                                  path=str(self.path)) from exc
            if found is None:
                raise NoCmdbError(f"no CMDB at {self.path}: the database has no CMDB "
                                  "tables", path=str(self.path))

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                statement = ""
                for part in sql.split(";"):  # a trigger's body holds ";" of its own
                    statement += part + ";"
                    if sqlite3.complete_statement(statement):
                        if statement.strip(" \n;"):
                            conn.execute(statement)
                        statement = ""
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (version, name, ts(datetime.now(UTC))),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        writer, pool = self._writer, self._reader_pool
        self._writer = self._reader_pool = None
        if pool is not None:
            await pool.stop()
        if writer is not None:
            await writer.stop()

    @property
    def _r(self) -> sqlite3.Connection:
        """The reader connection of the reader thread running this call."""
        conn: sqlite3.Connection | None = getattr(self._reader_conn, "conn", None)
        if conn is None:
            raise StoreUnavailableError("the SQLite store is not open")
        return conn

    @timed
    async def ping(self) -> None:
        with _unavailable():
            self._r.execute("SELECT 1").fetchone()

    @timed
    async def write(self, work: Callable[[StoreTx], Awaitable[T]]) -> T:
        writer = self._writer
        if writer is None:
            raise StoreUnavailableError("the SQLite store is not open")
        # The whole unit of work runs on the writer's thread: BEGIN IMMEDIATE may wait
        # for another process's write (a CLI import) without the event loop waiting.
        return await writer.run(lambda conn: drive(self._transaction(conn, work)))

    @staticmethod
    async def _transaction(conn: sqlite3.Connection,
                           work: Callable[[StoreTx], Awaitable[T]]) -> T:
        with _unavailable():
            conn.execute("BEGIN IMMEDIATE")
        try:
            result = await work(SqliteTx(conn))
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        with _unavailable():
            conn.execute("COMMIT")
        return result

    # ---- reads -----------------------------------------------------------------
    @counted
    async def get_cis(self, ids: Sequence[str]) -> dict[str, CI]:
        with _unavailable():
            return _get_cis(self._r, ids)

    @counted
    async def find_ci_by_asset_tag(self, asset_tag: str) -> CI | None:
        with _unavailable():
            row = self._r.execute(
                f"SELECT {CI_COLUMNS} FROM cis WHERE asset_tag = ?", (asset_tag,)
            ).fetchone()
        return _ci(row) if row else None

    @counted
    async def find_cis(self, key: KeyField, values: Sequence[str]) -> dict[str, list[CI]]:
        if not values:
            return {}
        column = "asset_tag" if key == "asset_tag" else "serial_key"
        out: dict[str, list[CI]] = {}
        with _unavailable():
            rows = self._r.execute(
                f"SELECT {CI_COLUMNS} FROM cis WHERE {column} IN"
                " (SELECT value FROM json_each(?))", (_json_list(values),))
            for row in rows:
                out.setdefault(row[column], []).append(_ci(row))
        return out

    @counted
    async def find_ci_facts(self, key: FactKey, values: Sequence[str],
                            attributes: Sequence[str] | None = None
                            ) -> dict[str, list[CIFacts]]:
        with _unavailable():
            return ci_facts(self._r, key, values, attributes)

    @counted
    async def list_cis(
        self, query: CISelection, order: CIOrder, first: int, after: Cursor | None
    ) -> Page[CI]:
        with _unavailable():
            return lists.ci_page(self._r, query, order, first, after)

    @counted
    async def count_cis(self, query: CISelection) -> int:
        with _unavailable():
            return lists.ci_count(self._r, query)

    @counted
    async def ci_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        with _unavailable():
            by_class = self._r.execute("SELECT class, COUNT(*) FROM cis GROUP BY class")
            classes = {str(k): int(n) for k, n in by_class.fetchall()}
            by_state = self._r.execute("SELECT state, COUNT(*) FROM cis GROUP BY state")
            return classes, {str(k): int(n) for k, n in by_state.fetchall()}

    @counted
    async def relationships_of(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[Relationship]]:
        with _unavailable():
            return _relationships_of(self._r, ci_ids, direction, types)

    @counted
    async def linked_targets(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str]
    ) -> dict[str, list[tuple[str, str]]]:
        near, far = ("source_id", "target_id") if direction == "out" \
            else ("target_id", "source_id")
        # The partial index of active relationships answers it (no table rows read).
        sql = (f"SELECT {near}, type, {far} FROM relationships"
               f" WHERE {near} IN (SELECT value FROM json_each(?)) AND ended_at IS NULL"
               " AND type IN (SELECT value FROM json_each(?))")
        out: dict[str, list[tuple[str, str]]] = {i: [] for i in ci_ids}
        with _unavailable():
            for ci_id, kind, other in self._r.execute(
                    sql, [jsontext.dumps(list(ci_ids)), jsontext.dumps(list(types))]):
                out[ci_id].append((kind, other))
        return out

    @counted
    async def relationship_ends(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[RelationshipEnds]]:
        end = "source_id" if direction == "out" else "target_id"
        sql = ("SELECT id, type, source_id, target_id, attributes FROM relationships"
               f" WHERE {end} IN (SELECT value FROM json_each(?)) AND ended_at IS NULL")
        args: list[Any] = [jsontext.dumps(list(ci_ids))]
        if types is not None:
            sql += " AND type IN (SELECT value FROM json_each(?))"
            args.append(jsontext.dumps(list(types)))
        out: dict[str, list[RelationshipEnds]] = {i: [] for i in ci_ids}
        loads = jsontext.loads
        with _unavailable():
            for rid, kind, source, target, attrs in self._r.execute(
                    sql + " ORDER BY created_at, id", args):
                rel = RelationshipEnds(rid, kind, source, target,
                                       {} if attrs == "{}" else loads(attrs))
                out[source if direction == "out" else target].append(rel)
        return out

    @counted
    async def get_relationships(self, ids: Sequence[str]) -> dict[str, Relationship]:
        with _unavailable():
            return _get_relationships(self._r, ids)

    @counted
    async def history(
        self,
        *,
        ci_id: str | None = None,
        actor: str | None = None,
        run_id: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> Page[HistoryEntry]:
        with _unavailable():
            return lists.history_page(self._r, ci_id, actor, run_id, first, after)

    @counted
    async def closure(
        self,
        start_ids: Sequence[str],
        direction: Direction,
        types: Sequence[str],
        max_depth: int,
        reverse_types: Sequence[str] = (),
    ) -> ClosureResult:
        with _unavailable():
            return sqlite_closure(self._r, start_ids, direction, types, max_depth,
                                  reverse_types)

    @counted
    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
        with _unavailable():
            return _get_docs(self._r, kind, ids)

    @counted
    async def find_docs(
        self, kind: str, *, parent: str | None = None, key: str | None = None,
        first: int = 50, after: str | None = None, newest_first: bool = True,
    ) -> Page[Doc]:
        with _unavailable():
            return lists.docs_page(self._r, kind, parent, key, first, after, newest_first)

    @counted
    async def count_docs(self, kind: str, *, parent: str | None = None,
                         key: str | None = None) -> int:
        with _unavailable():
            return lists.doc_count(self._r, kind, parent, key)

    @counted
    async def attribute_values(self, names: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        if not names:
            return []
        paths = [f"$.{n}" for n in names]
        columns = ", ".join(f"json_type(attributes, ?) AS t{i}, json_extract(attributes, ?) AS v{i}"
                            for i in range(len(names)))
        held = " OR ".join("json_type(attributes, ?) IS NOT NULL" for _ in names)
        args = [p for path in paths for p in (path, path)] + paths
        out: list[tuple[str, dict[str, Any]]] = []
        with _unavailable():
            for row in self._r.execute(f"SELECT id, {columns} FROM cis WHERE {held}", args):
                values: dict[str, Any] = {}
                for i, name in enumerate(names):
                    kind, value = row[f"t{i}"], row[f"v{i}"]
                    if kind in ("array", "object"):
                        values[name] = jsontext.loads(value)
                    elif kind is not None and kind != "null":
                        values[name] = value
                out.append((row["id"], values))
        return out

    async def iter_all(
        self, what: Literal["cis", "relationships", "history", "docs"]
    ) -> AsyncIterator[Any]:
        sql, decode = {
            "cis": (f"SELECT {CI_COLUMNS} FROM cis ORDER BY id", _ci),
            "relationships": (f"SELECT {REL_COLUMNS} FROM relationships ORDER BY id", _rel),
            "docs": (f"SELECT {DOC_COLUMNS} FROM docs ORDER BY seq", _doc),
            "history": ("SELECT * FROM history ORDER BY seq", _history),
        }[what]
        # A connection (and thread) of its own, so a long dump holds no reader.
        conn = ConnectionThread(self._connect, f"sqlite-dump {self.path.name}")
        await conn.start()
        try:
            cursor = await conn.run(lambda c: c.execute(sql))
            while rows := await conn.run(lambda _c: [decode(r) for r in
                                                     cursor.fetchmany(ITER_PAGE)]):
                for item in rows:
                    yield item
        finally:
            await conn.stop()

    def scratch_keys(self) -> ScratchKeys:
        return DiskKeys()

    async def wipe(self) -> None:
        async def work(tx: StoreTx) -> None:
            assert isinstance(tx, SqliteTx)
            for table in ("docs", "history", "relationships", "cis"):
                tx.conn.execute(f"DELETE FROM {table}")

        await self.write(work)


# Every public read runs on a reader thread (see ``sqlite_threads``); the methods above
# stay plain SQLite code, and a read added later is moved off the loop the same way.
off_loop(SqliteStore, loop_side={"open", "close", "write", "iter_all", "wipe"})
