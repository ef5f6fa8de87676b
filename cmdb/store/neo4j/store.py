"""The production store: Neo4j 5 over Bolt (a single server, or a cluster / Aura via
``neo4j://`` routing), with the official async driver.

Writes are managed transactions (``execute_write``, see ``neo4j_tx``), so the driver
retries a unit of work on transient errors; a read is one auto-commit query against
readers, a traversal one read transaction (``neo4j_closure``), a bulk load batches of
bounded size (``neo4j_load``), a page of a list the plan that reads least
(``neo4j_lists``). Uniqueness is held by constraints created idempotently at start-up.
When the server cannot be reached, calls fail within a bounded time with
``STORE_UNAVAILABLE`` and the driver reconnects by itself once it is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import (
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from cmdb.errors import CmdbError, LimitExceededError, NoCmdbError, StoreUnavailableError
from cmdb.model.queries import (
    CIFacts,
    CIOrder,
    CISelection,
    ClosureResult,
    Cursor,
    FactKey,
    Page,
    Window,
)
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship
from cmdb.store.base import (
    Chunks,
    Direction,
    KeyField,
    ScratchKeys,
    Store,
    StoreTx,
    counted,
    timed,
)
from cmdb.store.home_loop import on_home_loop
from cmdb.store.neo4j import cypher as q
from cmdb.store.neo4j import lists
from cmdb.store.neo4j import load as bulk
from cmdb.store.neo4j import search as neo4j_search
from cmdb.store.neo4j.closure import closure as bfs_closure
from cmdb.store.neo4j.facts import ci_facts
from cmdb.store.neo4j.reads import (
    REL_RETURN,
    _docs_by_id,
    _relationship_pages,
    _relationships_by_id,
    _relationships_of,
)
from cmdb.store.neo4j.tx import Neo4jTx
from cmdb.store.scratch import DiskKeys

T = TypeVar("T")
PAGE = 5000
TOTALS_TTL = 60.0
READ_ATTEMPTS = 3
PLANS_KEPT = 512


def _unavailable(exc: Exception) -> StoreUnavailableError:
    return StoreUnavailableError(f"the Neo4j database cannot be reached: {exc}")


#: Neo4j's code for a transaction over ``dbms.memory.transaction.total.max``.
TOO_LARGE = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"


def _transient(exc: TransientError) -> CmdbError | TransientError:
    """A transient error the driver gave up retrying, as the CMDB tells it: a unit of
    work over the server's transaction memory will not fit by trying again."""
    if exc.code == TOO_LARGE:
        return LimitExceededError(
            "the change is too large for one Neo4j transaction (the server's "
            "dbms.memory.transaction.total.max was reached; nothing was written): apply "
            "it in smaller parts, or give the server more memory for transactions",
            setting="dbms.memory.transaction.total.max")
    return exc


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
        self._home: asyncio.AbstractEventLoop | None = None

    async def open(self, *, create: bool = True) -> None:
        self._home = asyncio.get_running_loop()
        self._driver = AsyncGraphDatabase.driver(
            self.uri, auth=self.auth, connection_timeout=self.timeout,
            connection_acquisition_timeout=self.timeout,
            max_transaction_retry_time=self.timeout,
            # Notices such as "property ended_at does not exist yet" are expected on an
            # empty graph and would only flood the logs.
            notifications_min_severity="OFF",
        )
        try:
            if not create and not await self._holds_cmdb():
                await self.close()
                where = self.uri + (f" (database {self.database})" if self.database else "")
                raise NoCmdbError(f"no CMDB at {where}", path=where)
            for statement in [*q.CONSTRAINTS, *[q.rel_index(t) for t in self.rel_types],
                              *[f"DROP INDEX {name} IF EXISTS" for name in q.RETIRED_INDEXES]]:
                await self._driver.execute_query(statement, database_=self.database)
            await neo4j_search.backfill(self._driver, self.database)
        except (DriverError, Neo4jError, OSError) as exc:
            raise _unavailable(exc) from exc

    async def _holds_cmdb(self) -> bool:
        """Whether the CMDB set this database up (its CI id constraint exists)."""
        assert self._driver is not None
        try:
            records, _, _ = await self._driver.execute_query(
                "SHOW CONSTRAINTS YIELD name WHERE name = 'ci_id' RETURN count(*) AS n",
                database_=self.database)
        except Neo4jError as exc:
            if (exc.code or "").startswith("Neo.ClientError.Security"):
                return True  # an account that may not list constraints: assume it is set up
            raise
        return bool(records[0]["n"])

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

    @timed
    async def ping(self) -> None:
        await self._read("RETURN 1 AS ok")

    @timed
    async def write(self, work: Callable[[StoreTx], Awaitable[T]]) -> T:
        async def unit(tx: AsyncManagedTransaction) -> T:
            return await work(Neo4jTx(tx, self.rel_types))

        try:
            async with self._session(neo4j.WRITE_ACCESS) as session:
                return await session.execute_write(unit)
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise _unavailable(exc) from exc
        except TransientError as exc:
            raise _transient(exc) from exc

    async def load(self, chunks: Chunks, *, dump_id: str, replace: bool = False,
                   progress: Callable[[int], None] | None = None) -> None:
        await bulk.load(self, self._read, chunks, dump_id=dump_id, replace=replace,
                        progress=progress)
        self.forget_plans()

    async def incomplete_load(self) -> tuple[str, int] | None:
        return await bulk.incomplete(self._read)

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
    async def find_ci_facts(self, key: FactKey, values: Sequence[str],
                            attributes: Sequence[str] | None = None
                            ) -> dict[str, list[CIFacts]]:
        return await ci_facts(self._read_many, key, values, attributes)

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
    async def ci_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        counts = []
        for prop in ("class", "state"):  # each an index scan (ci_class, ci_state)
            rows = await self._read(f"MATCH (n:CI) WHERE n.{prop} IS NOT NULL "
                                    f"RETURN n.{prop} AS k, count(*) AS n")
            counts.append({str(r["k"]): int(r["n"]) for r in rows})
        return counts[0], counts[1]

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

    def scratch_keys(self) -> ScratchKeys:
        return DiskKeys()

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


# The driver's connections belong to the loop that opened it: calls made on the
# server's worker loops are run there (see ``home_loop``).
on_home_loop(Neo4jStore, "_home", exclude={"open", "close", "iter_all"})
