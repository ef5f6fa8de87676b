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
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, RoutingControl
from neo4j.exceptions import (
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    TransientError,
)

from cmdb.errors import (
    CmdbError,
    DuplicateError,
    LimitExceededError,
    NotFoundError,
    StoreUnavailableError,
    VersionConflictError,
)
from cmdb.model.queries import (
    CIFacts,
    CIOrder,
    CISelection,
    ClosureResult,
    ClosureRow,
    Cursor,
    FactKey,
    Page,
)
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship
from cmdb.store import neo4j_cypher as q
from cmdb.store.base import Direction, KeyField, Store, StoreTx, counted
from cmdb.store.neo4j_facts import ci_facts
from cmdb.store.neo4j_reads import (
    REL_RETURN,
    _docs_by_id,
    _relationships_by_id,
    _relationships_of,
)

T = TypeVar("T")
BATCH = 2000
PAGE = 5000
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
            for statement in [*q.CONSTRAINTS, *[q.rel_index(t) for t in self.rel_types]]:
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

    async def _read(self, cypher: str, **params: Any) -> list[neo4j.Record]:
        try:
            result = await self.driver.execute_query(
                cypher, params, routing_=RoutingControl.READ, database_=self.database
            )
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise _unavailable(exc) from exc
        return list(result.records)

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
            async with self.driver.session(database=self.database) as session:
                return await session.execute_write(unit)
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise _unavailable(exc) from exc
        except TransientError as exc:
            raise _transient(exc) from exc

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

    @counted
    async def find_ci_facts(self, key: FactKey, values: Sequence[str],
                            attributes: Sequence[str] | None = None
                            ) -> dict[str, list[CIFacts]]:
        return await ci_facts(self._read_many, key, values, attributes)

    @counted
    async def list_cis(
        self, query: CISelection, order: CIOrder, first: int, after: Cursor | None
    ) -> Page[CI]:
        clauses, params = q.where(query)
        key = q.ORDER[order.field]
        op, direction = ("<", "DESC") if order.descending else (">", "ASC")
        if after is not None:
            value = "datetime($after_value)" if order.field.value.endswith("_at") \
                else "$after_value"
            clauses.append(f"({key} {op} {value} OR ({key} = {value} AND n.id {op} $after_id))")
            params.update(after_value=after.value, after_id=after.id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._read_many(
            f"MATCH (n:CI){where} RETURN {q.N} AS n, {key} AS sort"
            f" ORDER BY {key} {direction}, n.id {direction} LIMIT $limit", ("n", "sort"),
            **params, limit=first + 1,
        )
        page = rows[:first]
        return Page(items=[q.to_ci(r["n"]) for r in page], has_next=len(rows) > first,
                    cursors=[Cursor(q.iso(r["sort"]), r["n"]["id"]) for r in page])

    @counted
    async def count_cis(self, query: CISelection) -> int:
        clauses, params = q.where(query)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._read(f"MATCH (n:CI){where} RETURN count(n) AS n", **params)
        return int(rows[0]["n"])

    @counted
    async def relationships_of(
        self, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None = None
    ) -> dict[str, list[Relationship]]:
        return await _relationships_of(self._read_many, ci_ids, direction, types)

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
        clauses: list[str] = []
        params: dict[str, Any] = {"limit": first + 1}
        match = "MATCH (h:HistoryEntry)"
        if ci_id is not None:
            match = ("CALL () { MATCH (h:HistoryEntry {ci_id: $ci}) RETURN h UNION"
                     " MATCH (h:HistoryEntry {peer_id: $ci}) RETURN h }")
            params["ci"] = ci_id
        if actor is not None:
            clauses.append("h.actor = $actor")
            params["actor"] = actor
        if run_id is not None:
            clauses.append("h.run_id = $run")
            params["run"] = run_id
        if after is not None:
            clauses.append("h.seq < COLLECT { MATCH (a:HistoryEntry {id: $after})"
                           " RETURN a.seq }[0]")
            params["after"] = after
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._read_many(
            f"{match} WITH h{where} RETURN {q.H} AS h ORDER BY h.seq DESC LIMIT $limit", ("h",),
            **params,
        )
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
        if not (types or reverse_types) or not start_ids:
            found = await self._read_many(
                "MATCH (x:CI) WHERE x.id IN $starts RETURN x.id AS id", ("id",),
                starts=list(start_ids))
            return ClosureResult([ClosureRow(r["id"], 0, None, None, None) for r in found],
                                 False)
        # The closure keeps its own plan (a few thousand rows at most): wrapped or
        # collected, the planner no longer searches breadth first from each start.
        rows = await self._read(
            q.closure_query(direction, list(types), max_depth, list(reverse_types)),
            starts=list(start_ids), types=list(types), reverse=list(reverse_types))
        return ClosureResult(
            [ClosureRow(r["id"], r["depth"], r["parent"], r["rel"], r["type"]) for r in rows],
            any(r["more"] for r in rows),
        )

    @counted
    async def get_docs(self, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
        return await _docs_by_id(self._read_many, kind, ids)

    @staticmethod
    def _doc_where(kind: str, parent: str | None, key: str | None
                   ) -> tuple[str, dict[str, Any]]:
        clauses, params = ["d.kind = $kind"], {"kind": kind}
        if parent is not None:
            clauses.append("d.parent = $parent")
            params["parent"] = parent
        if key is not None:
            clauses.append("d.key = $key")
            params["key"] = key
        return " AND ".join(clauses), params

    @counted
    async def find_docs(
        self, kind: str, *, parent: str | None = None, key: str | None = None,
        first: int = 50, after: str | None = None, newest_first: bool = True,
    ) -> Page[Doc]:
        where, params = self._doc_where(kind, parent, key)
        op, direction = ("<", "DESC") if newest_first else (">", "ASC")
        if after is not None:
            where += (f" AND d.seq {op} COLLECT {{ MATCH (a:Doc {{kind: $kind, id: $after}})"
                      f" RETURN a.seq }}[0]")
            params["after"] = after
        rows = await self._read_many(
            f"MATCH (d:Doc) WHERE {where} RETURN {q.D} AS d"
            f" ORDER BY d.seq {direction} LIMIT $limit", ("d",), **params, limit=first + 1,
        )
        return Page(items=[q.to_doc(r["d"]) for r in rows[:first]], has_next=len(rows) > first)

    @counted
    async def count_docs(self, kind: str, *, parent: str | None = None,
                         key: str | None = None) -> int:
        where, params = self._doc_where(kind, parent, key)
        rows = await self._read(f"MATCH (d:Doc) WHERE {where} RETURN count(d) AS n", **params)
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
            async with self.driver.session(database=self.database) as session:
                await session.run("MATCH (n) CALL (n) { DETACH DELETE n }"
                                  " IN TRANSACTIONS OF 5000 ROWS")
        except (ServiceUnavailable, DriverError, OSError) as exc:
            raise _unavailable(exc) from exc
