"""The bounded traversal behind impact, dependencies and single points of failure, on Neo4j.

A breadth-first search run level by level from Python: a query takes the frontier's
CIs by their unique id index and expands each only along the allowed relationships
(``types`` in the traversal's direction, ``reverse_types`` the other way), so a level
costs what it touches and the whole search grows with what it reaches, not with the
size of the graph or the number of paths through it. The server keeps each new CI
once, with the relationship that reached it, and drops those already reached. A query
takes two levels when the first is small (most of a search's levels), and all levels
run in one read transaction.

Whether more lies past ``max_depth`` is one more indexed query from the last level that
stops at the first CI not yet reached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from cmdb.errors import ValidationError
from cmdb.model.queries import ClosureResult, ClosureRow
from cmdb.store.base import Direction
from cmdb.store.neo4j.cypher import type_pattern

#: Runs a read query and returns its records.
Read = Callable[..., Awaitable[list[Any]]]

#: Up to how many CIs one level may reach for the same query to take the next level
#: too: the second level's work is the same either way, only a round trip is saved.
FAN = 500


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
    """Two BFS levels in one query (one round trip saved in two).

    ``found``: the CIs of ``$frontier`` that exist. ``first``: each CI one allowed step
    away that is not in ``$seen``, once, with the step that reached it: the smallest
    ``[parent id, relationship id, type]`` (the same answer on every run). ``second``:
    the same one step further from ``first``, if ``first`` has at most ``$fan`` CIs
    (else empty: the next query goes on from ``first``); it may still hold CIs of
    ``first``, which the caller drops. One record: the async driver pays per record.
    """
    union = " UNION ALL ".join(f"MATCH {step} WHERE r.ended_at IS NULL RETURN b, r"
                               for step in _steps(direction, types, reverse_types))
    step = (f"CALL (a) {{ {union} }} WITH b, min([a.id, r.id, type(r)]) AS via"
            " WHERE NOT b.id IN $seen")
    return ("MATCH (a:CI) WHERE a.id IN $frontier WITH collect(a) AS found"
            f" CALL (found) {{ UNWIND found AS a {step} RETURN collect([b, via]) AS first }}"
            " CALL (first) { WITH first WHERE size(first) <= $fan"
            f" UNWIND first AS f WITH f[0] AS a {step}"
            " RETURN collect([b.id] + via) AS second }"
            " RETURN [a IN found | a.id] AS found, [f IN first | [f[0].id] + f[1]] AS first,"
            " second")


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

    ``read`` runs each query; the store gives it one read transaction for the whole
    search, so every level sees the same state of the graph.
    """
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0:
        raise ValidationError("maxDepth must be a non-negative integer", field="maxDepth")
    starts = list(dict.fromkeys(start_ids))
    if not starts:
        return ClosureResult([], False)
    if max_depth == 0 or not (types or reverse_types):
        records = await read("MATCH (a:CI) WHERE a.id IN $frontier RETURN a.id AS id",
                             frontier=starts)
        found = sorted(r["id"] for r in records)
        rows = [ClosureRow(i, 0, None, None, None) for i in found]
        return ClosureResult(rows, await _more(read, direction, types, reverse_types,
                                               found, set(found)))
    level = level_query(direction, types, reverse_types)
    seen: set[str] = set(starts)
    out: list[ClosureRow] = []
    frontier = starts
    depth = 0
    while frontier:
        two = depth + 2 <= max_depth
        [record] = await read(level, frontier=frontier, seen=list(seen),
                              fan=FAN if two else -1)
        if depth == 0:
            out = [ClosureRow(i, 0, None, None, None) for i in sorted(record["found"])]
        levels = [sorted(record["first"])]
        if two and len(levels[0]) <= FAN:
            near = {r[0] for r in levels[0]}
            levels.append(sorted(r for r in record["second"] if r[0] not in near))
        for reached in levels:
            depth += 1
            out.extend(ClosureRow(ci_id, depth, parent, rel_id, rel_type)
                       for ci_id, parent, rel_id, rel_type in reached)
            frontier = [r[0] for r in reached]
            seen.update(frontier)
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
                       seen=list(seen))
    return bool(found)
