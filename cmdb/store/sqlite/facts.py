"""SQLite reads for imports: CI facts (a projection of the columns identification and
comparison need, with each CI's place) instead of whole CI records."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from cmdb.model import jsontext
from cmdb.model.queries import CIFacts, FactKey
from cmdb.store.sqlite.sql import _json_list

FACT_COLUMNS = {"id": "id", "asset_tag": "asset_tag", "serial_key": "serial_key",
                "class": "class"}
# The place is one probe of the index of active relationships by source (a CI with two,
# which the schema does not allow, comes twice: the first row is kept). JSON columns come
# as bytes: decoding text the JSON parser reads again cost a tenth of the question.
FACTS_SQL = """
SELECT c.{column} AS v, c.id, c.class, c.name, c.state, c.asset_tag, c.serial_number,
       c.version, CAST(c.attributes AS BLOB), CAST(c.provenance AS BLOB), r.target_id
  FROM cis c LEFT JOIN relationships r
    ON r.source_id = c.id AND r.type = 'LOCATED_IN' AND r.ended_at IS NULL
 WHERE c.{column} IN (SELECT value FROM json_each(?))
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
    seen: set[str] = set()
    for v, ci_id, cls, name, state, tag, serial, version, attrs, prov, place in cursor:
        if ci_id in seen:
            continue
        seen.add(ci_id)
        held: dict[str, Any] = loads(attrs) if attrs != b"{}" else {}
        if wanted is not None and not held.keys() <= wanted:
            held = {k: v for k, v in held.items() if k in wanted}
        facts = CIFacts(ci_id, cls, name, state, tag, serial, version, held, prov, place)
        found = out.get(v)
        if found is None:
            out[v] = [facts]
        else:
            found.append(facts)
    return out
