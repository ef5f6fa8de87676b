"""The query box's derived properties on CIs written before the box existed.

Every write sets ``search_text`` and ``search_keys`` (:func:`neo4j_cypher.ci_props`); a
database written by an earlier version has CIs without them, which the box would never
find. Opening the store fills them in, a batch per transaction, once: afterwards the
check finds nothing to do.
"""

from __future__ import annotations

from typing import Any

from neo4j import AsyncDriver

from cmdb.store.neo4j import cypher as q

BATCH = 2000


async def backfill(driver: AsyncDriver, database: str | None) -> int:
    """Set the search properties where they are missing; the number of CIs filled."""
    done = 0
    while True:
        records, _, _ = await driver.execute_query(
            f"MATCH (n:CI) WHERE n.{q.SEARCH_TEXT} IS NULL"
            f" RETURN {q.as_text('n', q.CI_TIMES)} AS n LIMIT $batch",
            batch=BATCH, database_=database)
        if not records:
            return done
        rows: list[dict[str, Any]] = []
        for record in records:
            props = q.ci_props(q.to_ci(record["n"]))
            rows.append({"id": props["id"], "text": props[q.SEARCH_TEXT],
                         "keys": props[q.SEARCH_KEYS]})
        await driver.execute_query(
            f"UNWIND $rows AS row MATCH (n:CI {{id: row.id}})"
            f" SET n.{q.SEARCH_TEXT} = row.text, n.{q.SEARCH_KEYS} = row.keys",
            rows=rows, database_=database)
        done += len(rows)
