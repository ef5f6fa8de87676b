"""Neo4j reads for imports: CI facts (a projection of the columns identification and
comparison need, with each CI's place) instead of whole CI records.

The attributes come back as ``[name, value]`` pairs of the ``attr_`` properties, so no
temporal value (slow for the driver to unpack) travels; the place is one indexed hop.
"""

from __future__ import annotations

from collections.abc import Sequence

from cmdb.model.queries import CIFacts, FactKey
from cmdb.store.neo4j import cypher as q
from cmdb.store.neo4j.reads import Runner

FACT_PROPERTIES = {"id": "id", "asset_tag": "asset_tag", "serial_key": "serial_key",
                   "class": "class"}
FACT_COLUMNS = ("v", "f")
# The place comes before the final RETURN, which neo4j_cypher.collected rewrites. Named
# attributes are read as properties (cached by the planner); every attribute, only by
# walking the node's keys, several times slower.
FACTS_CYPHER = (
    "UNWIND $values AS v MATCH (n:CI {{{prop}: v}})"
    " WITH v, n, [(n)-[r:LOCATED_IN WHERE r.ended_at IS NULL]->(p:CI) | p.id] AS place"
    " RETURN v, [n.id, n.class, n.name, n.state, n.asset_tag, n.serial_number, n.version,"
    " n.provenance, place, {attributes}] AS f"
)
EVERY_ATTRIBUTE = (f"[k IN keys(n) WHERE k STARTS WITH '{q.ATTR}'"
                   f" | [substring(k, {len(q.ATTR)}), n[k]]]")


def _projection(attributes: Sequence[str] | None) -> tuple[str, list[str]]:
    if attributes is None:
        return EVERY_ATTRIBUTE, []
    # Only names an attribute can have (the adapter refuses others on write) reach the
    # query text; no CI holds any other.
    names = [a for a in dict.fromkeys(attributes) if q.ATTRIBUTE_NAME.match(a)]
    return "[" + ", ".join(f"n.{q.ATTR}{a}" for a in names) + "]", names


async def ci_facts(run: Runner, key: FactKey, values: Sequence[str],
                   attributes: Sequence[str] | None = None) -> dict[str, list[CIFacts]]:
    """:meth:`~cmdb.store.base.Store.find_ci_facts` through ``run`` (the driver's read
    path or a transaction), as one collected record."""
    if not values:
        return {}
    projected, names = _projection(attributes)
    rows = await run(FACTS_CYPHER.format(prop=FACT_PROPERTIES[key], attributes=projected),
                     FACT_COLUMNS, values=list(dict.fromkeys(values)))
    out: dict[str, list[CIFacts]] = {}
    for row in rows:
        ci_id, cls, name, state, tag, serial, version, prov, place, attrs = row["f"]
        held = dict(attrs) if attributes is None else \
            {n: a for n, a in zip(names, attrs, strict=True) if a is not None}
        facts = CIFacts(ci_id, cls, name, state, tag, serial, version, held,
                        prov or "{}", place[0] if place else None)
        out.setdefault(row["v"], []).append(facts)
    return out
