"""Benchmark the Neo4j store against raw Cypher through the driver, in the same run.

Starts a real Neo4j 5.26 (the project's own launcher; or CMDB_TEST_NEO4J_URI), then:

- bulk load: the synthetic estate (bench/generate.py) through the store port's
  UNWIND batches, time and records/s;
- listing: ``store.list_cis`` (100 hardware CIs by name) against the same Cypher
  through ``driver.execute_query`` with no conversion;
- closure: ``store.closure`` upstream of a core switch against the bare Cypher.

    python -m bench.bench_neo4j --cis 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from neo4j import AsyncGraphDatabase, RoutingControl

from bench.bench_core import IMPACT_TYPES, amedian_ms
from bench.generate import build_estate, load
from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.registry import load_registry
from cmdb.store import neo4j_cypher as q
from cmdb.store.neo4j import Neo4jStore
from tests.support.neo4j_server import Neo4jServer


async def run(size: int, repeat: int) -> dict[str, Any]:
    registry = load_registry()
    # Full JIT (fast_start=False): the tests trade it for start-up time, a benchmark must not.
    server = Neo4jServer(heap="4g", initial_heap="1g", page_cache="1g", fast_start=False)
    server.start()
    try:
        store = Neo4jStore(server.uri, server.auth, sorted(registry.relationship_types),
                           timeout=60)
        await store.open()
        await store.wipe()
        estate = build_estate(size)
        load_s = await load(store, estate, progress=False)
        hardware = registry.descendants("Hardware", concrete_only=True)
        selection = CISelection(classes=tuple(hardware))
        start = estate.core_switches[0]
        reach = await store.closure([start], "in", IMPACT_TYPES, 10)
        driver = AsyncGraphDatabase.driver(server.uri, auth=server.auth)
        list_cypher = ("MATCH (n:CI) WHERE n.class IN $classes RETURN properties(n) AS n,"
                       " n.name AS sort ORDER BY n.name, n.id LIMIT 101")
        closure_cypher = q.closure_query("in", IMPACT_TYPES, 10)

        async def raw(cypher: str, **params: Any) -> Any:
            return await driver.execute_query(cypher, params, routing_=RoutingControl.READ)

        out = {
            "cis": len(estate.cis), "relationships": len(estate.rels), "load_s": load_s,
            "load_rate": (len(estate.cis) + len(estate.rels)) / load_s,
            "blast_radius": len(reach.rows),
            "list_store_ms": await amedian_ms(
                lambda: store.list_cis(selection, CIOrder(), 100, None), repeat),
            "list_raw_ms": await amedian_ms(lambda: raw(list_cypher, classes=hardware), repeat),
            "closure_store_ms": await amedian_ms(
                lambda: store.closure([start], "in", IMPACT_TYPES, 10), repeat),
            "closure_raw_ms": await amedian_ms(
                lambda: raw(closure_cypher, starts=[start]), repeat),
        }
        await driver.close()
        await store.close()
        return out
    finally:
        server.stop()
        server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    r = asyncio.run(run(args.cis, args.repeat))
    print(json.dumps(r, indent=2))
    print(f"bulk load: {r['cis']} CIs + {r['relationships']} relationships in "
          f"{r['load_s']:.1f} s ({r['load_rate']:,.0f} records/s)")
    print(f"list_cis: {r['list_store_ms']:.2f} ms vs raw {r['list_raw_ms']:.2f} ms "
          f"= {r['list_store_ms'] / r['list_raw_ms']:.2f}x")
    print(f"closure ({r['blast_radius']} CIs): {r['closure_store_ms']:.2f} ms vs raw "
          f"{r['closure_raw_ms']:.2f} ms = {r['closure_store_ms'] / r['closure_raw_ms']:.2f}x")


if __name__ == "__main__":
    main()
