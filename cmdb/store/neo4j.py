"""The production store: Neo4j 5 over Bolt (a single server, or a cluster / Aura via
``neo4j://`` routing), with the official async driver.

Writes are managed transactions (``execute_write``), so the driver retries a unit
of work on transient errors; reads use ``execute_query`` against readers.
Uniqueness is held by constraints created idempotently at start-up; bulk writes
go in ``UNWIND`` batches. When the server cannot be reached, calls fail within a
bounded time with ``STORE_UNAVAILABLE`` and the driver reconnects by itself once
it is back.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import (
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from cmdb.errors import (
    DuplicateError,
    NotFoundError,
    StoreUnavailableError,
    VersionConflictError,
)
from cmdb.model.queries import CIOrder, CISelection, ClosureResult, Cursor, Page, Window
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship
from cmdb.store import neo4j_cypher as q
from cmdb.store import neo4j_lists as lists
from cmdb.store import neo4j_load as bulk
from cmdb.store.base import Chunks, Direction, KeyField, Store, StoreTx, counted
from cmdb.store.neo4j_closure import closure as bfs_closure
from cmdb.store.neo4j_reads import (
    REL_RETURN,
    _docs_by_id,
    _relationship_pages,
    _relationships_by_id,
    _relationships_of,
)

T = TypeVar("T")
BATCH = 2000
PAGE = 5000
TOTALS_TTL = 60.0
READ_ATTEMPTS = 3
PLANS_KEPT = 512
_seq = itertools.count()


def next_seq() -> str:
    """An order for history entries: time, then a per-process counter."""
    return f"{time.time_ns():020d}{next(_seq) % 1_000_000:06d}"


def _duplicate(exc: ConstraintError) -> DuplicateError:
    text = str(exc.message or exc)
    if "asset_tag" in text:
        return DuplicateError("asset tag already in use", field="assetTag")
    if "serial_key" in text:
        return DuplicateError("serial number already in use for this manufacturer",
                              field="serialNumber")
    return DuplicateError(f"duplicate value: {text}")


def _unavailable(exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(f"the Neo4j database cannot be reached: {exc}")


class Neo4jTx(StoreTx):
    """A unit of work inside one managed Neo4j transaction."""

    def __init__(self, tx: AsyncManagedTransaction, rel_types: Sequence[str]) -> None:
        self.tx = tx
        self.rel_types = rel_types

    async def _rows(self, cypher: str, **params: Any) -> list[neo4j.Record]:
        result = await self.tx.run(cypher, params)
        return [r async for r in result]

    async def _many(self, cypher: str, columns: Sequence[str], union: bool = False,
                    **params: Any) -> list[dict[str, Any]]:
        """Many rows as one record (see :func:`neo4j_cypher.collected`)."""
        return q.uncollected(
            await self._rows(q.collected(cypher, columns, union), **params), columns)

    async def get_cis(self, ids: Sequence[str]) -> dict[str, CI]:
        rows = await self._many(f"MATCH (n:CI) WHERE n.id IN $ids RETURN {q.N} AS n", ("n",),
                                ids=list(ids))
        return {r["n"]["id"]: q.to_ci(r["n"]) for r in rows}

    async def find_ci_ids(
        self, *, asset_tag: str | None = None, serial_key: str | None = None
    ) -> list[str]:
        if asset_tag is not None:
            rows = await self._rows("MATCH (n:CI {asset_tag: $v}) RETURN n.id AS id", v=asset_tag)
        elif serial_key is not None:
            rows = await self._rows("MATCH (n:CI {serial_key: $v}) RETURN n.id AS id",
                                    v=serial_key)
        else:
            return []
        return [r["id"] for r in rows]

    async def holders(self, key: KeyField, values: Sequence[str]) -> dict[str, list[str]]:
        rows = await self._many(q.by_key(key, "n.id AS id"), ("v", "id"),
                                values=list(dict.fromkeys(values)))
        return q.grouped(rows, "id")

    async def find_ci_ids_by_attribute(
        self, classes: Sequence[str], name: str, value: Any
    ) -> list[str]:
        rows = await self._rows(
            "MATCH (n:CI) WHERE n.class IN $classes AND n[$key] = $value RETURN n.id AS id",
            classes=list(classes), key=q.ATTR + name, value=value,
        )
        return [r["id"] for r in rows]

    async def insert_ci(self, ci: CI) -> None:
        await self.insert_cis([ci])

    async def insert_cis(self, cis: Sequence[CI]) -> None:
        try:
            for i in range(0, len(cis), BATCH):
                await self._rows("UNWIND $rows AS row CREATE (n:CI) SET n = row "
                                 + q.to_datetimes("n", q.CI_TIMES),
                                 rows=[q.ci_props(c) for c in cis[i:i + BATCH]])
        except ConstraintError as exc:
            raise _duplicate(exc) from exc

    async def update_ci(self, ci: CI, expected_version: int) -> None:
        await self.update_cis([(ci, expected_version)])

    async def update_cis(self, changes: Sequence[tuple[CI, int]]) -> None:
        for i in range(0, len(changes), BATCH):
            part = changes[i:i + BATCH]
            try:
                rows = await self._many(
                    # Lock each node first, then compare: a WHERE evaluated before the
                    # lock would let two transactions both pass the same expected version.
                    "UNWIND $rows AS row MATCH (n:CI {id: row.id})"
                    " SET n.lock = true REMOVE n.lock"
                    " WITH n, row WHERE n.version = row.expected SET n = row.props "
                    + q.to_datetimes("n", q.CI_TIMES) + " RETURN n.id AS id", ("id",),
                    rows=[{"id": ci.id, "expected": expected, "props": q.ci_props(ci)}
                          for ci, expected in part],
                )
            except ConstraintError as exc:
                raise _duplicate(exc) from exc
            if len(rows) != len(part):
                done = {r["id"] for r in rows}
                ci, expected = next((c, e) for c, e in part if c.id not in done)
                raise VersionConflictError(
                    f"CI {ci.id} was changed by someone else (expected version {expected})",
                    id=ci.id, expectedVersion=expected,
                )

    async def get_relationships(self, ids: Sequence[str]) -> dict[str, Relationship]:
        return await _relationships_by_id(self._many, ids, self.rel_types)

    async def active_relationships(
        self, ci_id: str, direction: Direction, types: Sequence[str] | None = None
    ) -> list[Relationship]:
        found = await _relationships_of(self._many, [ci_id], direction, types)
        return found.get(ci_id, [])

    async def active_relationships_of(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[Relationship]]:
        return await _relationships_of(self._many, ci_ids, direction, types)

    async def insert_relationship(self, rel: Relationship) -> None:
        await self.insert_relationships([rel])

    async def insert_relationships(self, rels: Sequence[Relationship]) -> None:
        by_type: dict[str, list[Relationship]] = {}
        for rel in rels:
            by_type.setdefault(q.rel_type(rel.type), []).append(rel)
        for rtype, group in by_type.items():
            for i in range(0, len(group), BATCH):
                chunk = group[i:i + BATCH]
                rows = [{"source": r.source_id, "target": r.target_id, "props": q.rel_props(r)}
                        for r in chunk]
                active = [row for row, r in zip(rows, chunk, strict=True) if r.ended_at is None]
                # Writing to the source node locks it, so two transactions cannot both
                # find "no active link" and both create one. Bulk loads (restores,
                # imports) run alone in their unit of work and skip the per-node lock.
                lock = " SET a.lock = true REMOVE a.lock WITH a, row" if len(active) <= 8 else ""
                dupes = await self._rows(
                    f"UNWIND $rows AS row MATCH (a:CI {{id: row.source}}){lock}"
                    f" MATCH (a)-[x:{rtype}]->(b:CI {{id: row.target}})"
                    f" WHERE x.ended_at IS NULL RETURN count(x) AS n",
                    rows=active,
                ) if active else []
                pairs = [(row["source"], row["target"]) for row in active]
                if (dupes and dupes[0]["n"]) or len(set(pairs)) != len(pairs):
                    raise DuplicateError("an identical active relationship already exists")
                made = await self._rows(
                    f"UNWIND $rows AS row MATCH (a:CI {{id: row.source}}),"
                    f" (b:CI {{id: row.target}}) CREATE (a)-[r:{rtype}]->(b) SET r = row.props"
                    f" {q.to_datetimes('r', q.REL_TIMES)}"
                    f" RETURN count(r) AS n",
                    rows=rows,
                )
                if made[0]["n"] != len(rows):
                    raise NotFoundError("a relationship end does not exist")

    async def update_relationship(self, rel: Relationship, expected_version: int) -> None:
        await self.update_relationships([(rel, expected_version)])

    async def update_relationships(self, changes: Sequence[tuple[Relationship, int]]) -> None:
        by_type: dict[str, list[tuple[Relationship, int]]] = {}
        for rel, expected in changes:
            by_type.setdefault(q.rel_type(rel.type), []).append((rel, expected))
        for rtype, group in by_type.items():
            for i in range(0, len(group), BATCH):
                part = group[i:i + BATCH]
                rows = await self._many(
                    f"UNWIND $rows AS row MATCH ()-[r:{rtype} {{id: row.id}}]->()"
                    f" SET r.lock = true REMOVE r.lock WITH r, row"
                    f" WHERE r.version = row.expected"
                    f" SET r += row.props {q.to_datetimes('r', q.REL_TIMES)} RETURN r.id AS id",
                    ("id",),
                    rows=[{"id": rel.id, "expected": expected, "props": q.rel_props(rel)}
                          for rel, expected in part],
                )
                if len(rows) != len(part):
                    done = {r["id"] for r in rows}
                    rel = next(r for r, _ in part if r.id not in done)
                    raise VersionConflictError(
                        f"relationship {rel.id} was changed by someone else", id=rel.id)

    async def add_history(self, entries: Sequence[HistoryEntry]) -> None:
        rows = [q.history_props(e, next_seq()) for e in entries]
        for i in range(0, len(rows), BATCH):
            await self._rows("UNWIND $rows AS row CREATE (h:HistoryEntry) SET h = row "
                             + q.to_datetimes("h", q.HISTORY_TIMES),
                             rows=rows[i:i + BATCH])


    async def delete_all(self) -> None:
        await self._rows("MATCH (n) DETACH DELETE n")

    async def put_docs(self, docs: Sequence[Doc]) -> None:
        rows = [{**q.doc_props(d), "seq": next_seq()} for d in docs]
        try:
            for i in range(0, len(rows), BATCH):
                await self._rows("UNWIND $rows AS row CREATE (d:Doc) SET d = row "
                                 + q.to_datetimes("d", q.CI_TIMES),
                                 rows=rows[i:i + BATCH])
        except ConstraintError as exc:
            raise DuplicateError("a record with this id already exists") from exc

    async def update_doc(self, doc: Doc, expected_version: int) -> None:
        await self.update_docs([(doc, expected_version)])

    async def update_docs(self, changes: Sequence[tuple[Doc, int]]) -> None:
        for i in range(0, len(changes), BATCH):
            part = changes[i:i + BATCH]
            rows = await self._many(
                "UNWIND $rows AS row MATCH (d:Doc {kind: row.kind, id: row.id})"
                " SET d.lock = true REMOVE d.lock"
                " WITH d, row WHERE d.version = row.expected"
                " SET d += row.props " + q.to_datetimes("d", q.CI_TIMES) + " RETURN d.id AS id",
                ("id",),
                rows=[{"kind": doc.kind, "id": doc.id, "expected": expected,
                       "props": {k: v for k, v in q.doc_props(doc).items()
                                 if k not in ("kind", "id", "created_at")}}
                      for doc, expected in part],
            )
            if len(rows) != len(part):
                done = {r["id"] for r in rows}
                doc, expected = next((d, e) for d, e in part if d.id not in done)
                raise VersionConflictError(
                    f"{doc.kind} {doc.id} was changed by someone else "
                    f"(expected version {expected})", id=doc.id,
                )

    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
        return await _docs_by_id(self._many, kind, ids)


class Neo4jStore(Store):
    """The CMDB in a Neo4j 5 database."""

    kind = "neo4j"

    def __init__(self, uri: str, auth: tuple[str, str] | None,
                 relationship_types: Sequence[str], database: str | None = None,
                 timeout: float = 10.0) -> None:
        super().__init__()
        self.uri = uri
        self.auth = auth
        self.database = database
        self.timeout = timeout
        self.rel_types = [q.rel_type(t) for t in relationship_types]
        self._driver: AsyncDriver | None = None
        self._totals: dict[str, tuple[float, int]] = {}
        self._plans: dict[tuple[str, str], tuple[float, bool]] = {}

    async def open(self) -> None:
        self._driver = AsyncGraphDatabase.driver(
            self.uri, auth=self.auth, connection_timeout=self.timeout,
            connection_acquisition_timeout=self.timeout,
            max_transaction_retry_time=self.timeout,
            # Notices such as "property ended_at does not exist yet" are expected on an
            # empty graph and would only flood the logs.
            notifications_min_severity="OFF",
        )
        try:
            for statement in [*q.CONSTRAINTS, *[q.rel_index(t) for t in self.rel_types],
                              *[f"DROP INDEX {name} IF EXISTS" for name in q.RETIRED_INDEXES]]:
                await self._driver.execute_query(statement, database_=self.database)
        except (DriverError, Neo4jError, OSError) as exc:
            raise _unavailable(exc) from exc

    async def close(self) -> None:
        if self._driver is not None:
            await self._driver.close()
            self._driver = None

    @property
    def driver(self) -> AsyncDriver:
        if self._driver is None:
            raise StoreUnavailableError("the Neo4j store is not open")
        return self._driver

    def _session(self, access: str) -> neo4j.AsyncSession:
        # One bookmark manager for reads and writes: on a cluster, a read that follows a
        # write waits until its server has the write.
        return self.driver.session(database=self.database, default_access_mode=access,
                                   bookmark_manager=self.driver.execute_query_bookmark_manager)

    async def _read(self, cypher: str, **params: Any) -> list[neo4j.Record]:
        """One query in an auto-commit read: one round trip (a managed transaction
        takes a second one to commit); retried like the driver retries transactions."""
        for attempt in range(READ_ATTEMPTS):
            try:
                async with self._session(neo4j.READ_ACCESS) as session:
                    result = await session.run(cypher, params)
                    return [r async for r in result]
            except (SessionExpired, TransientError) as exc:
                if attempt == READ_ATTEMPTS - 1:
                    raise _unavailable(exc) from exc
            except (ServiceUnavailable, DriverError, OSError) as exc:
                raise _unavailable(exc) from exc
        raise AssertionError("unreachable")

    async def _read_unit(self, work: Callable[[AsyncManagedTransaction], Awaitable[T]]) -> T:
        """Several queries in one read transaction (one session, one snapshot)."""
        try:
            async with self._session(neo4j.READ_ACCESS) as session:
                return await session.execute_read(work)
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise _unavailable(exc) from exc

    async def _read_many(self, cypher: str, columns: Sequence[str], union: bool = False,
                         **params: Any) -> list[dict[str, Any]]:
        """Many rows as one record (see :func:`neo4j_cypher.collected`)."""
        return q.uncollected(
            await self._read(q.collected(cypher, columns, union), **params), columns)

    async def ping(self) -> None:
        await self._read("RETURN 1 AS ok")

    async def write(self, work: Callable[[StoreTx], Awaitable[T]]) -> T:
        async def unit(tx: AsyncManagedTransaction) -> T:
            return await work(Neo4jTx(tx, self.rel_types))

        try:
            async with self._session(neo4j.WRITE_ACCESS) as session:
                return await session.execute_write(unit)
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise _unavailable(exc) from exc

    async def load(self, chunks: Chunks, *, dump_id: str, replace: bool = False,
                   progress: Callable[[int], None] | None = None) -> None:
        await bulk.load(self, chunks, dump_id=dump_id, replace=replace, progress=progress)
        self.forget_plans()

    async def incomplete_load(self) -> tuple[str, int] | None:
        return await bulk.incomplete(self)

    # ---- reads -----------------------------------------------------------------
    @counted
    async def get_cis(self, ids: Sequence[str]) -> dict[str, CI]:
        if not ids:
            return {}
        rows = await self._read_many(f"MATCH (n:CI) WHERE n.id IN $ids RETURN {q.N} AS n",
                                     ("n",), ids=list(ids))
        return {r["n"]["id"]: q.to_ci(r["n"]) for r in rows}

    @counted
    async def find_ci_by_asset_tag(self, asset_tag: str) -> CI | None:
        rows = await self._read(f"MATCH (n:CI {{asset_tag: $tag}}) RETURN {q.N} AS n",
                                tag=asset_tag)
        return q.to_ci(rows[0]["n"]) if rows else None

    @counted
    async def find_cis(self, key: KeyField, values: Sequence[str]) -> dict[str, list[CI]]:
        if not values:
            return {}
        rows = await self._read_many(q.by_key(key, f"{q.N} AS n"), ("v", "n"),
                                     values=list(dict.fromkeys(values)))
        return {v: [q.to_ci(n) for n in found] for v, found in q.grouped(rows, "n").items()}

    async def _total(self, label: str) -> int:
        """How many nodes carry ``label`` (from the count store, kept for a minute)."""
        now = time.monotonic()
        cached = self._totals.get(label)
        if cached is None or now - cached[0] > TOTALS_TTL:
            rows = await self._read(f"MATCH (x:{label}) RETURN count(x) AS n")
            cached = (now, int(rows[0]["n"]))
            self._totals[label] = cached
        return cached[1]

    def forget_plans(self) -> None:
        """Forget the list plans chosen and the counts they were chosen by (after a bulk
        load, say: the next lists count again)."""
        self._plans.clear()
        self._totals.clear()

    async def _plentiful(self, count: Callable[[int], tuple[str, dict[str, Any]]],
                         first: int, label: str) -> bool:
        """Whether a filter matches enough nodes that reading along the list order is
        cheaper than sorting the matches (see :mod:`neo4j_lists`). The answer is kept
        for a minute: the next pages of a list, and the same list asked again, skip
        the count (a stale answer costs time, never a wrong page)."""
        cap = lists.threshold(first, await self._total(label))
        cypher, params = count(cap)
        key = (cypher, repr(sorted(params.items())))
        now = time.monotonic()
        cached = self._plans.get(key)
        if cached is not None and now - cached[0] <= TOTALS_TTL:
            return cached[1]
        rows = await self._read(cypher, **params)
        if len(self._plans) >= PLANS_KEPT:
            self._plans.clear()
        self._plans[key] = (now, int(rows[0]["n"]) >= cap)
        return self._plans[key][1]

    @counted
    async def list_cis(
        self, query: CISelection, order: CIOrder, first: int, after: Cursor | None
    ) -> Page[CI]:
        along = order.field in lists.ORDER_INDEX and (
            not lists.has_filter(query)
            or await self._plentiful(lambda cap: lists.ci_count(query, cap), first, "CI"))
        cypher, params = lists.ci_page(query, order, first, after, along)
        rows = await self._read_many(cypher, ("n", "sort"), **params)
        page = rows[:first]
        return Page(items=[q.to_ci(r["n"]) for r in page], has_next=len(rows) > first,
                    cursors=[Cursor(q.iso(r["sort"]), r["n"]["id"]) for r in page])

    @counted
    async def count_cis(self, query: CISelection) -> int:
        cypher, params = lists.ci_count(query)
        rows = await self._read(cypher, **params)
        return int(rows[0]["n"])

    @counted
    async def relationships_of(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[Relationship]]:
        return await _relationships_of(self._read_many, ci_ids, direction, types)

    @counted
    async def relationship_pages(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None,
        first: int, after: str | None = None,
    ) -> dict[str, Window[Relationship]]:
        return await _relationship_pages(self._read_many, ci_ids, direction, types, first,
                                         after)

    @counted
    async def get_relationships(self, ids: Sequence[str]) -> dict[str, Relationship]:
        return await _relationships_by_id(self._read_many, ids, self.rel_types)

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
        cypher, params = lists.history_page(ci_id, actor, run_id, first, after)
        rows = await self._read_many(cypher, ("h",), **params)
        return Page(items=[q.to_history(r["h"]) for r in rows[:first]],
                    has_next=len(rows) > first)

    @counted
    async def closure(
        self,
        start_ids: Sequence[str],
        direction: Direction,
        types: Sequence[str],
        max_depth: int,
        reverse_types: Sequence[str] = (),
    ) -> ClosureResult:
        async def search(tx: neo4j.AsyncManagedTransaction) -> ClosureResult:
            async def read(cypher: str, **params: Any) -> list[neo4j.Record]:
                return [r async for r in await tx.run(cypher, params)]

            return await bfs_closure(read, start_ids, direction, types, max_depth,
                                     reverse_types)

        return await self._read_unit(search)

    @counted
    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
        return await _docs_by_id(self._read_many, kind, ids)

    @counted
    async def find_docs(
        self, kind: str, *, parent: str | None = None, key: str | None = None,
        first: int = 50, after: str | None = None, newest_first: bool = True,
    ) -> Page[Doc]:
        along = parent is None and key is None and await self._plentiful(
            lambda cap: lists.doc_count(kind, None, None, cap), first, "Doc")
        cypher, params = lists.docs_page(kind, parent, key, first, after, newest_first, along)
        rows = await self._read_many(cypher, ("d",), **params)
        return Page(items=[q.to_doc(r["d"]) for r in rows[:first]], has_next=len(rows) > first)

    @counted
    async def count_docs(self, kind: str, *, parent: str | None = None,
                         key: str | None = None) -> int:
        cypher, params = lists.doc_count(kind, parent, key)
        rows = await self._read(cypher, **params)
        return int(rows[0]["n"])

    @counted
    async def attribute_values(self, names: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        if not names:
            return []
        keys = [q.ATTR + n for n in names]
        rows = await self._read_many(
            "MATCH (n:CI) WHERE any(k IN $keys WHERE n[k] IS NOT NULL)"
            " RETURN n.id AS id, [k IN $keys | n[k]] AS v", ("id", "v"), keys=keys)
        return [(r["id"], {n: v for n, v in zip(names, r["v"], strict=True) if v is not None})
                for r in rows]

    async def iter_all(
        self, what: Literal["cis", "relationships", "history", "docs"]
    ) -> AsyncIterator[Any]:
        if what == "relationships":
            # No index spans the relationship types, so one ordered pass, not pages.
            for r in await self._read(f"MATCH ()-[r]->() {REL_RETURN} ORDER BY r.id"):
                yield q.to_rel(r["r"], r["type"], r["source"], r["target"])
            return
        # Pages along an index (the key, then the id for ties), each one collected record.
        match, key, projection, decode = {
            "cis": ("MATCH (x:CI)", "x.id", q.as_text("x", q.CI_TIMES), q.to_ci),
            "docs": ("MATCH (x:Doc)", "x.seq", q.as_text("x", q.CI_TIMES), q.to_doc),
            "history": ("MATCH (x:HistoryEntry)", "x.seq", q.as_text("x", q.HISTORY_TIMES),
                        q.to_history),
        }[what]
        after: tuple[Any, Any] | None = None
        while True:
            where = (f" WHERE {key} > $after OR ({key} = $after AND x.id > $after_id)"
                     if after is not None else "")
            page = await self._read_many(
                f"{match}{where} RETURN {projection} AS x, {key} AS k, x.id AS i"
                f" ORDER BY {key}, x.id LIMIT $limit", ("x", "k", "i"),
                after=after[0] if after else None, after_id=after[1] if after else None,
                limit=PAGE)
            for item in page:
                yield decode(item["x"])
            if len(page) < PAGE:
                return
            after = (page[-1]["k"], page[-1]["i"])

    async def wipe(self) -> None:
        try:
            # Relationships first, then the bare nodes, in batches of a fixed number of
            # rows: a DETACH DELETE batch would grow with the degree of its nodes.
            async with self.driver.session(database=self.database) as session:
                for statement in ("MATCH ()-[r]->() CALL (r) { DELETE r }"
                                  " IN TRANSACTIONS OF 5000 ROWS",
                                  "MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 5000 ROWS"):
                    await (await session.run(statement)).consume()
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise _unavailable(exc) from exc
