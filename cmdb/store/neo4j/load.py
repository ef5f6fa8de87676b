"""Bulk loads into Neo4j (``cmdb restore``, ``cmdb migrate``): batches, each its own
transaction, so the server's transaction memory stays bounded whatever the CMDB's size.

One transaction for a whole CMDB holds every new node and relationship in the server's
transaction memory until it commits: a 20k-CI CMDB already exceeds the default limit
(``dbms.memory.transaction.total.max``) of a 768 MB heap. A batch of ``LOAD_BATCH``
records is a few megabytes. The records come from a dump checked beforehand (ids,
asset tags and serial keys unique, no duplicate active relationship, every
relationship's ends present), so they are created without the duplicate check and the
node lock of ordinary writes.

A ``(:CmdbLoad)`` marker, made before the first batch, counts the records committed:
each batch adds its count in its own transaction, so the marker always tells exactly
how far the load got. It is deleted after the last batch. A load that stops part-way
(the server stopped, the network dropped) leaves the data loaded so far and the marker;
loading the same dump again resumes after the last committed batch, and loading
another dump, or any load with ``replace``, wipes the incomplete one and starts over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from neo4j.exceptions import DriverError, Neo4jError

from cmdb.errors import CmdbError, IncompleteLoadError, NotFoundError
from cmdb.model.records import Relationship
from cmdb.store.base import Chunks, LoadKind, Store, StoreTx, insert
from cmdb.store.neo4j import cypher as q
from cmdb.store.neo4j.tx import Neo4jTx

#: One query in an auto-commit read, answering its records (``Neo4jStore._read``).
Read = Callable[[str], Awaitable[Sequence[Any]]]

#: Records per transaction: a few MB of transaction state, and large enough that the
#: round trips do not show (5,000 loads within a few percent of 10,000's rate).
LOAD_BATCH = 5000


async def incomplete(read: Read) -> tuple[str, int] | None:
    rows = await read("MATCH (m:CmdbLoad) RETURN m.dump AS dump, m.done AS done")
    return (rows[0]["dump"], int(rows[0]["done"])) if rows else None


async def create_relationships(tx: Neo4jTx, rels: Sequence[Relationship]) -> None:
    """New relationships of a checked dump: no duplicate check, no lock."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in rels:
        by_type.setdefault(q.rel_type(r.type), []).append(
            {"source": r.source_id, "target": r.target_id, "props": q.rel_props(r)})
    for rtype, rows in by_type.items():
        made = await tx._rows(
            f"UNWIND $rows AS row MATCH (a:CI {{id: row.source}}) MATCH (b:CI {{id: row.target}})"
            f" CREATE (a)-[r:{rtype}]->(b) SET r = row.props {q.to_datetimes('r', q.REL_TIMES)}"
            f" RETURN count(r) AS n", rows=rows)
        if made[0]["n"] != len(rows):
            raise NotFoundError("a relationship end does not exist")


async def load(store: Store, read: Read, chunks: Chunks, *, dump_id: str, replace: bool,
               progress: Callable[[int], None] | None) -> None:
    """See :meth:`cmdb.store.base.Store.load` (``read``: the store's auto-commit read)."""
    marker = await incomplete(read)
    if marker is not None and marker[0] == dump_id and not replace:
        done = marker[1]
        if progress and done:
            progress(done)
    else:
        if replace or marker is not None:
            await store.wipe()
        await store.write(_run("CREATE (:CmdbLoad {dump: $dump, done: 0,"
                               " started_at: datetime()})", dump=dump_id))
        done = 0
    batches = chunks(done, LOAD_BATCH)
    while True:
        try:
            item = next(batches, None)
            if item is None:
                break
            await store.write(_batch(*item))
        except (CmdbError, Neo4jError, DriverError, OSError) as exc:
            message = exc.message if isinstance(exc, CmdbError) else str(exc)
            raise IncompleteLoadError(message, done=done) from exc
        done += len(item[1])
        if progress:
            progress(len(item[1]))
    await store.write(_run("MATCH (m:CmdbLoad) DELETE m"))


def _run(cypher: str, **params: Any) -> Callable[[StoreTx], Any]:
    async def work(tx: StoreTx) -> None:
        await _neo4j(tx)._rows(cypher, **params)

    return work


def _batch(kind: LoadKind, records: Sequence[Any]) -> Callable[[StoreTx], Any]:
    async def work(tx: StoreTx) -> None:
        if kind == "relationship":
            await create_relationships(_neo4j(tx), records)
        else:
            await insert(tx, kind, records)
        await _neo4j(tx)._rows("MATCH (m:CmdbLoad) SET m.done = m.done + $n", n=len(records))

    return work


def _neo4j(tx: StoreTx) -> Neo4jTx:
    assert isinstance(tx, Neo4jTx)
    return tx
