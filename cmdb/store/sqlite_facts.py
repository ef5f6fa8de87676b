"""SQLite reads for imports: CI facts (a projection of the columns identification and
comparison need, with each CI's place) instead of whole CI records."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from cmdb.model import jsontext
from cmdb.model.queries import CIFacts, FactKey
from cmdb.store.sqlite_sql import _json_list

FACT_COLUMNS = {"id": "id", "asset_tag": "asset_tag", "serial_key": "serial_key",
                "class": "class"}
# The place is one probe of the index of active relationships by source.
FACTS_SQL = """
SELECT {column} AS v, id, class, name, state, asset_tag, serial_number, version,
       attributes, provenance,
       (SELECT r.target_id FROM relationships r
         WHERE r.source_id = cis.id AND r.type = 'LOCATED_IN' AND r.ended_at IS NULL
         LIMIT 1) AS location_id
  FROM cis WHERE {column} IN (SELECT value FROM json_each(?))
"""


def ci_facts(conn: sqlite3.Connection, key: FactKey, values: Sequence[str],
             attributes: Sequence[str] | None = None) -> dict[str, list[CIFacts]]:
    """:meth:`~cmdb.store.base.Store.find_ci_facts` on one connection."""
    if not values:
        return {}
    sql = FACTS_SQL.format(column=FACT_COLUMNS[key])
    out: dict[str, list[CIFacts]] = {}
    loads = jsontext.loads
    wanted = None if attributes is None else frozenset(attributes)
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: cheaper than sqlite3.Row for many rows
    cursor.execute(sql, (_json_list(values),))
    for v, ci_id, cls, name, state, tag, serial, version, attrs, prov, place in cursor:
        held: dict[str, Any] = loads(attrs) if attrs != "{}" else {}
        if wanted is not None and not held.keys() <= wanted:
            held = {k: v for k, v in held.items() if k in wanted}
        facts = CIFacts(ci_id, cls, name, state, tag, serial, version, held, prov, place)
        found = out.get(v)
        if found is None:
            out[v] = [facts]
        else:
            found.append(facts)
    return out
