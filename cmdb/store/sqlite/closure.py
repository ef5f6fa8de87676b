"""The bounded traversal behind impact, dependencies and single points of failure, on
SQLite: one recursive CTE, run on one connection (a reader's), so the whole search
sees one snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from cmdb.model.queries import ClosureResult, ClosureRow
from cmdb.store.base import Direction
from cmdb.store.sqlite.sql import _json_list


def closure_sql(direction: Direction) -> str:
    """The bounded, cycle-safe traversal as one recursive CTE.

    ``walk`` keeps distinct (CI, depth, relationship) rows, so a cycle or a
    diamond adds at most one row per relationship and depth and the depth bound
    ends every path; the second recursive step follows the reverse types the
    other way. ``best`` keeps each CI once, at its shortest depth, with the
    relationship that reached it there (SQLite takes the bare columns from the
    row holding the MIN). ``more`` tells whether a CI at the depth bound has a
    neighbour not reached: the answer was truncated.
    Parameters: 1 start ids (JSON), 2 types (JSON), 3 max depth, 4 reverse types (JSON).
    """
    near, far = ("source_id", "target_id") if direction == "out" else ("target_id", "source_id")
    return f"""
    WITH RECURSIVE
    walk(id, depth, parent, rel, type) AS (
        SELECT id, 0, NULL, NULL, NULL FROM cis WHERE id IN (SELECT value FROM json_each(?1))
        UNION
        SELECT r.{far}, w.depth + 1, w.id, r.id, r.type
        FROM walk w JOIN relationships r ON r.{near} = w.id AND r.ended_at IS NULL
        WHERE w.depth < ?3 AND r.type IN (SELECT value FROM json_each(?2))
        UNION
        SELECT r.{near}, w.depth + 1, w.id, r.id, r.type
        FROM walk w JOIN relationships r ON r.{far} = w.id AND r.ended_at IS NULL
        WHERE w.depth < ?3 AND r.type IN (SELECT value FROM json_each(?4))
    ),
    best(id, depth, parent, rel, type) AS MATERIALIZED (
        SELECT id, MIN(depth), parent, rel, type FROM walk GROUP BY id
    )
    SELECT b.id, b.depth, b.parent, b.rel, b.type,
        (b.depth = ?3 AND (EXISTS (
            SELECT 1 FROM relationships r
             WHERE r.{near} = b.id AND r.ended_at IS NULL
               AND r.type IN (SELECT value FROM json_each(?2))
               AND r.{far} NOT IN (SELECT id FROM best))
          OR EXISTS (
            SELECT 1 FROM relationships r
             WHERE r.{far} = b.id AND r.ended_at IS NULL
               AND r.type IN (SELECT value FROM json_each(?4))
               AND r.{near} NOT IN (SELECT id FROM best)))) AS more
    FROM best b
    ORDER BY b.depth, b.id
    """


def closure(conn: sqlite3.Connection, start_ids: Sequence[str], direction: Direction,
            types: Sequence[str], max_depth: int, reverse_types: Sequence[str] = ()
            ) -> ClosureResult:
    """:meth:`~cmdb.store.base.Store.closure` on one connection."""
    rows = conn.execute(
        closure_sql(direction),
        (_json_list(start_ids), _json_list(types), max_depth, _json_list(reverse_types)),
    ).fetchall()
    out: list[ClosureRow] = []
    truncated = False
    for row in rows:
        out.append(ClosureRow(row["id"], row["depth"], row["parent"], row["rel"],
                              row["type"]))
        truncated = truncated or bool(row["more"])
    return ClosureResult(out, truncated)
