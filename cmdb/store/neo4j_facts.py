"""Neo4j reads for imports: CI facts (a projection of the columns identification and
comparison need, with each CI's place) instead of whole CI records.

The attributes come back as ``[name, value]`` pairs of the ``attr_`` properties, so no
temporal value (slow for the driver to unpack) travels; the place is one indexed hop.
"""

from __future__ import annotations

from collections.abc import Sequence

from cmdb.model.queries import CIFacts, FactKey
from cmdb.store import neo4j_cypher as q
from cmdb.store.neo4j_reads import Runner

FACT_PROPERTIES = {"id": "id", "asset_tag": "asset_tag", "serial_key": "serial_key",
                   "class": "class"}
FACT_COLUMNS = ("v", "f")
FACTS_CYPHER = (
    # The place comes before the final RETURN, which neo4j_cypher.collected rewrites.
    "UNWIND $values AS v MATCH (n:CI {{{prop}: v}})"
    " WITH v, n, COLLECT {{ MATCH (n)-[r:LOCATED_IN]->(p:CI) WHERE r.ended_at IS NULL"
    " RETURN p.id ORDER BY r.created_at, r.id LIMIT 1 }} AS place"
    " RETURN v, [n.id, n.class, n.name, n.state, n.asset_tag, n.serial_number, n.version,"
    f" [k IN keys(n) WHERE k STARTS WITH '{q.ATTR}' | [substring(k, {len(q.ATTR)}), n[k]]],"
    " n.provenance, place] AS f"
)


async def ci_facts(run: Runner, key: FactKey, values: Sequence[str]
                   ) -> dict[str, list[CIFacts]]:
    """:meth:`~cmdb.store.base.Store.find_ci_facts` through ``run`` (the driver's read
    path or a transaction), as one collected record."""
    if not values:
        return {}
    rows = await run(FACTS_CYPHER.format(prop=FACT_PROPERTIES[key]), FACT_COLUMNS,
                     values=list(dict.fromkeys(values)))
    out: dict[str, list[CIFacts]] = {}
    for row in rows:
        ci_id, cls, name, state, tag, serial, version, attrs, prov, place = row["f"]
        facts = CIFacts(ci_id, cls, name, state, tag, serial, version, dict(attrs),
                        prov or "{}", place[0] if place else None)
        out.setdefault(row["v"], []).append(facts)
    return out
