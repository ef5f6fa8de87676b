"""Reads shared by the Neo4j unit of work and the store: relationships and docs by id,
a CI's relationships. Each takes the runner of its context (a transaction or the
driver's read path)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cmdb.model.queries import Window
from cmdb.model.records import Doc, Relationship
from cmdb.store.base import Direction
from cmdb.store.neo4j import cypher as q

REL_RETURN = (f"RETURN {q.R} AS r, type(r) AS type, startNode(r).id AS source,"
              " endNode(r).id AS target")
REL_COLUMNS = ("r", "type", "source", "target")


#: Runs a query whose rows come back as one collected record (``_many``/``_read_many``).
Runner = Callable[..., Awaitable[list[dict[str, Any]]]]


async def _docs_by_id(run: Runner, kind: str, ids: Sequence[str]) -> dict[str, Doc]:
    if not ids:
        return {}
    rows = await run(f"MATCH (d:Doc {{kind: $kind}}) WHERE d.id IN $ids RETURN {q.D} AS d",
                     ("d",), kind=kind, ids=list(ids))
    return {r["d"]["id"]: q.to_doc(r["d"]) for r in rows}


async def _relationships_by_id(
    run: Runner, ids: Sequence[str], types: Sequence[str]
) -> dict[str, Relationship]:
    if not ids or not types:
        return {}
    # One indexed seek per known type: Neo4j has no index across relationship types.
    union = " UNION ALL ".join(
        f"MATCH ()-[r:{q.rel_type(t)}]->() WHERE r.id IN $ids {REL_RETURN}" for t in types
    )
    rows = await run(union, REL_COLUMNS, union=True, ids=list(ids))
    return {r["r"]["id"]: q.to_rel(r["r"], r["type"], r["source"], r["target"]) for r in rows}


async def _relationships_of(
    run: Runner, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None
) -> dict[str, list[Relationship]]:
    pattern = f":{q.type_pattern(list(types))}" if types else ""
    if types is not None and not types:
        return {i: [] for i in ci_ids}
    arrow = f"(n)-[r{pattern}]->()" if direction == "out" else f"(n)<-[r{pattern}]-()"
    rows = await run(
        f"MATCH (n:CI) WHERE n.id IN $ids MATCH {arrow} WHERE r.ended_at IS NULL"
        f" {REL_RETURN}, n.id AS key ORDER BY r.created_at, r.id", (*REL_COLUMNS, "key"),
        ids=list(ci_ids),
    )
    out: dict[str, list[Relationship]] = {i: [] for i in ci_ids}
    for r in rows:
        out[r["key"]].append(q.to_rel(r["r"], r["type"], r["source"], r["target"]))
    return out


async def _relationship_pages(
    run: Runner, ci_ids: Sequence[str], direction: Direction, types: Sequence[str] | None,
    first: int, after: str | None,
) -> dict[str, Window[Relationship]]:
    """A page of each CI's relationships: all of them ordered by reference, only the page
    projected and sent (a team owning thousands of CIs shows the first fifty)."""
    if types is not None and not types:
        return {i: Window([], 0, 0) for i in ci_ids}
    pattern = f":{q.type_pattern(list(types))}" if types else ""
    arrow = f"(n)-[r{pattern}]->()" if direction == "out" else f"(n)<-[r{pattern}]-()"
    rows = await run(
        f"MATCH (n:CI) WHERE n.id IN $ids"
        f" CALL (n) {{ MATCH {arrow} WHERE r.ended_at IS NULL"
        f" WITH r ORDER BY r.created_at, r.id RETURN collect(r) AS rels }}"
        f" WITH n, rels, CASE WHEN $after IS NULL THEN 0 ELSE coalesce("
        f"[i IN range(0, size(rels) - 1) WHERE rels[i].id = $after][0] + 1, size(rels))"
        f" END AS start"
        f" RETURN n.id AS key, start, size(rels) AS total,"
        f" [r IN rels[start..start + $first] | [{q.R}, type(r), startNode(r).id,"
        f" endNode(r).id]] AS page", ("key", "start", "total", "page"),
        ids=list(ci_ids), after=after, first=first,
    )
    out = {i: Window[Relationship]([], 0, 0) for i in ci_ids}
    for row in rows:
        out[row["key"]] = Window([q.to_rel(*item) for item in row["page"]], row["start"],
                                 row["total"])
    return out
