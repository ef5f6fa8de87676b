"""The bounded traversal behind impact, dependencies and single points of failure, on Neo4j.

A breadth-first search run level by level from Python: one query per level takes the
frontier's CIs by their unique id index and expands each only along the allowed
relationships (``types`` in the traversal's direction, ``reverse_types`` the other way),
so a level costs what it touches and the whole search grows with what it reaches, not
with the size of the graph or the number of paths through it. Every CI is kept once,
at the level it was first reached, with the relationship that reached it.

Whether more lies past ``max_depth`` is one more indexed query from the last level that
stops at the first CI not yet reached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cmdb.errors import ValidationError
from cmdb.model.queries import ClosureResult, ClosureRow
from cmdb.store.base import Direction
from cmdb.store.neo4j_cypher import type_pattern

#: Runs a read query and returns its records.
Read = Callable[..., Awaitable[list[Any]]]


def _steps(direction: Direction, types: Sequence[str], reverse_types: Sequence[str]
           ) -> list[str]:
    """The patterns of one step from ``a`` to ``b``: each typed and directed, so the
    expansion never considers a relationship it may not follow."""
    forward, backward = ("(a)-[r:{}]->(b:CI)", "(a)<-[r:{}]-(b:CI)")
    steps = []
    if types:
        steps.append((forward if direction == "out" else backward)
                     .format(type_pattern(list(types))))
    if reverse_types:
        steps.append((backward if direction == "out" else forward)
                     .format(type_pattern(list(reverse_types))))
    return steps


def level_query(direction: Direction, types: Sequence[str],
                reverse_types: Sequence[str]) -> str:
    """One BFS level: for each CI of ``$frontier`` that exists, its id and the list of
    ``[neighbour id, relationship id, relationship type]`` one allowed step away, all
    in one record (the async driver pays per record)."""
    parts = [f"COLLECT {{ MATCH {step} WHERE r.ended_at IS NULL"
             f" RETURN [b.id, r.id, type(r)] }}"
             for step in _steps(direction, types, reverse_types)]
    return ("MATCH (a:CI) WHERE a.id IN $frontier"
            f" RETURN collect([a.id, {' + '.join(parts) or '[]'}]) AS rows")


def more_query(direction: Direction, types: Sequence[str],
               reverse_types: Sequence[str]) -> str:
    """Whether any CI of ``$frontier`` has an allowed neighbour outside ``$seen``; stops
    at the first one."""
    exists = " OR ".join(f"EXISTS {{ MATCH {step} WHERE r.ended_at IS NULL"
                         f" AND NOT b.id IN $seen }}"
                         for step in _steps(direction, types, reverse_types))
    return (f"MATCH (a:CI) WHERE a.id IN $frontier AND ({exists or 'false'})"
            " RETURN a.id AS id LIMIT 1")


async def closure(
    read: Read, start_ids: Sequence[str], direction: Direction, types: Sequence[str],
    max_depth: int, reverse_types: Sequence[str] = (),
) -> ClosureResult:
    """Every CI within ``max_depth`` allowed steps of ``start_ids`` (see ``Store.closure``).

    Of several shortest ways into a CI, the one from the smallest parent id, then the
    smallest relationship id, is kept: the same answer on every run.
    """
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise ValidationError("maxDepth must be a non-negative integer", field="maxDepth")
    starts = list(dict.fromkeys(start_ids))
    if not starts:
        return ClosureResult([], False)
    level = level_query(direction, types, reverse_types)
    if max_depth == 0 or not (types or reverse_types):
        records = await read("MATCH (a:CI) WHERE a.id IN $frontier RETURN a.id AS id",
                             frontier=starts)
        found = sorted(r["id"] for r in records)
        rows = [ClosureRow(i, 0, None, None, None) for i in found]
        return ClosureResult(rows, await _more(read, direction, types, reverse_types,
                                               found, set(found)))
    out: list[ClosureRow] = []
    seen: set[str] = set()
    frontier = starts
    depth = 0
    while frontier:
        records = await read(level, frontier=frontier)
        answer: list[list[Any]] = records[0]["rows"] if records else []
        expanded = sorted((row[0], row[1]) for row in answer)
        if depth == 0:
            for ci_id, _ in expanded:
                seen.add(ci_id)
                out.append(ClosureRow(ci_id, 0, None, None, None))
        reached: dict[str, ClosureRow] = {}
        for parent, neighbours in expanded:
            for ci_id, rel_id, rel_type in neighbours:
                if ci_id in seen:
                    continue
                best = reached.get(ci_id)
                if best is None or (parent, rel_id) < (best.parent_id, best.via_id):
                    reached[ci_id] = ClosureRow(ci_id, depth + 1, parent, rel_id, rel_type)
        depth += 1
        seen.update(reached)
        out.extend(reached[i] for i in sorted(reached))
        frontier = sorted(reached)
        if depth == max_depth:
            return ClosureResult(out, await _more(read, direction, types, reverse_types,
                                                   frontier, seen))
    return ClosureResult(out, False)


async def _more(read: Read, direction: Direction, types: Sequence[str],
                reverse_types: Sequence[str], frontier: Sequence[str], seen: set[str]
                ) -> bool:
    if not frontier or not (types or reverse_types):
        return False
    found = await read(more_query(direction, types, reverse_types), frontier=list(frontier),
                       seen=sorted(seen))
    return bool(found)
