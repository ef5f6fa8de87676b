"""The Neo4j unit of work: what a write may do inside one managed transaction.

Writes go in ``UNWIND`` batches; compare-and-set updates take each node's write lock
before comparing its version; a taken unique value comes back as ``DuplicateError``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import neo4j
from neo4j import AsyncManagedTransaction
from neo4j.exceptions import ConstraintError

from cmdb.errors import DuplicateError, NotFoundError, VersionConflictError
from cmdb.model.records import CI, Doc, HistoryEntry, Relationship
from cmdb.store.base import Direction, KeyField, StoreTx
from cmdb.store.neo4j import cypher as q
from cmdb.store.neo4j.reads import _docs_by_id, _relationships_by_id, _relationships_of

BATCH = 2000
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


