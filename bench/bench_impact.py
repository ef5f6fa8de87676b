"""Benchmark impact analysis (SQLite), each figure a ratio measured in the same run.

1. traversal: the store closure behind ``impact`` (propagating types, plus
   MEMBER_OF the other way) for a ~1k-CI blast radius at 100k CIs, against the
   bare recursive CTE through sqlite3;
2. GraphQL end to end: the ``impact`` query with paths executed by the schema,
   against the floor of the GraphQL layer itself: the same query and response
   shape with the impact already computed in memory (graphql-core executing and
   serialising only); p50/p95 and a breakdown;
3. growth: the same-sized blast radius (3 racks and what runs on them) at 10k and 100k.

    python -m bench.bench_impact
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.bench_core import prepare
from cmdb.api.context import Context
from cmdb.api.schema import build_schema
from cmdb.model.definitions import Propagation
from cmdb.model.queries import CIOrder
from cmdb.model.records import Actor
from cmdb.model.registry import load_registry
from cmdb.services import Cmdb
from cmdb.services.impact import ImpactReport
from cmdb.services.inputs import CIFilterInput
from cmdb.settings import Settings
from cmdb.store.sqlite import SqliteStore
from cmdb.store.sqlite_sql import closure_sql

QUERY = """query($ids: [ID!]!) { impact(ciIds: $ids) { total truncated
  impacted { ci { id name class } status depth path { type from { name } to { name } } }
  services { ci { name } status } notify { party { name } roles } } }"""


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    await fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 2 else values[0]


async def first_racks(cmdb: Cmdb) -> list[str]:
    """Three racks (60 servers in clusters of 8, their VMs, databases, apps, services):
    a blast radius of about 1k CIs, about the same at any CMDB size."""
    found = await cmdb.queries.page(CIFilterInput(class_name="Rack", text="rack-"),
                                    CIOrder(), 500, None)
    by_name = {c.name: c.id for c in found.items}
    return [by_name[f"rack-{i}"] for i in range(3)]


async def bench_size(size: int, repeat: int) -> dict[str, Any]:
    registry = load_registry()
    forward = registry.types_propagating(Propagation.TARGET_TO_SOURCE)
    groups = registry.types_propagating(Propagation.REDUNDANCY)
    path, _meta = await prepare(size)
    store = SqliteStore(path)
    cmdb = Cmdb.build(Settings(), store=store, registry=registry)
    await cmdb.open()
    starts = await first_racks(cmdb)
    precomputed: ImpactReport = await cmdb.impact.impact(starts)
    raw = sqlite3.connect(path)
    args = (json.dumps(starts), json.dumps(forward), 10, json.dumps(groups))
    schema = build_schema()

    async def bare() -> Any:
        return raw.execute(closure_sql("in"), args).fetchall()

    async def full() -> Any:
        result = await schema.execute(QUERY, {"ids": starts},
                                      context_value=Context(cmdb=cmdb, actor=Actor(name="b")))
        assert not result.errors, result.errors
        return json.dumps(result.data)

    async def cached(*_a: Any, **_k: Any) -> ImpactReport:
        return precomputed

    async def floor() -> Any:
        original = cmdb.impact.impact
        cmdb.impact.impact = cached  # type: ignore[method-assign]  # the floor: no compute
        try:
            fresh = Context(cmdb=cmdb, actor=Actor(name="b"))
            fresh.prime([*precomputed.changed, *(i.ci for i in precomputed.impacted)])
            result = await schema.execute(QUERY, {"ids": starts}, context_value=fresh)
        finally:
            cmdb.impact.impact = original  # type: ignore[method-assign]
        return json.dumps(result.data)

    store_ms = await timed(lambda: store.closure(starts, "in", forward, 10, groups), repeat)
    raw_ms = await timed(bare, repeat)
    impact_ms = await timed(lambda: cmdb.impact.impact(starts), repeat)
    full_ms = await timed(full, repeat)
    floor_ms = await timed(floor, repeat)
    raw.close()
    await cmdb.close()
    return {
        "blast_radius": len(precomputed.impacted),
        "closure_store_ms": statistics.median(store_ms),
        "closure_raw_ms": statistics.median(raw_ms),
        "impact_service_ms": statistics.median(impact_ms),
        "graphql_p50_ms": statistics.median(full_ms), "graphql_p95_ms": p(full_ms, 95),
        "floor_p50_ms": statistics.median(floor_ms), "floor_p95_ms": p(floor_ms, 95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    small = asyncio.run(bench_size(10_000, args.repeat))
    big = asyncio.run(bench_size(100_000, args.repeat))
    print(json.dumps({"10k": small, "100k": big}, indent=2))
    print(f"traversal at 100k ({big['blast_radius']} impacted): store "
          f"{big['closure_store_ms']:.1f} ms / raw CTE {big['closure_raw_ms']:.1f} ms = "
          f"{big['closure_store_ms'] / big['closure_raw_ms']:.2f}x (target <= 2x)")
    print(f"GraphQL impact end to end p50 {big['graphql_p50_ms']:.1f} ms (p95 "
          f"{big['graphql_p95_ms']:.1f}) / floor p50 {big['floor_p50_ms']:.1f} ms = "
          f"{big['graphql_p50_ms'] / big['floor_p50_ms']:.2f}x (target <= 1.5x); "
          f"service (traversal + statuses) {big['impact_service_ms']:.1f} ms")
    print(f"growth 10k -> 100k at blast radius {small['blast_radius']} -> "
          f"{big['blast_radius']}: impact service {small['impact_service_ms']:.1f} -> "
          f"{big['impact_service_ms']:.1f} ms = "
          f"{big['impact_service_ms'] / small['impact_service_ms']:.2f}x (target < 1.3x)")


if __name__ == "__main__":
    main()
