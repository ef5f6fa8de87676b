"""Benchmark the Neo4j store, each figure against a baseline measured in the same run.

For each size, on the estate of ``bench/generate.py`` (the SQLite file ``bench_core``
caches), against a Neo4j 5.26 the script starts with the given heap and page cache (or
the one ``CMDB_TEST_NEO4J_URI`` names):

- bulk load: ``store.load`` (the path of ``cmdb restore``/``migrate``) of the CIs and
  relationships, against raw ``UNWIND ... CREATE`` of the same rows in batches of 10,000
  through the driver; records/s;
- ``cmdb migrate`` SQLite -> Neo4j, run as a command: seconds, and the largest
  transaction memory the server reported meanwhile (``SHOW TRANSACTIONS``, polled);
- closure: ``store.closure`` upstream of a core switch, and the impact-shaped closure
  (three racks, MEMBER_OF to the groups), against a breadth-first search written
  directly with the driver (one query per level returning the new ids);
- ``impact`` (three racks) and ``singlePointsOfFailure`` (a service): the services on
  Neo4j against the same services on SQLite, same estate;
- ``cis`` pages: 100 hardware CIs by name against the index-ordered raw Cypher, and
  100 UPSes (a rare class) against the raw class-index Cypher.

    python -m bench.bench_neo4j --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from neo4j import READ_ACCESS, AsyncDriver, AsyncManagedTransaction, GraphDatabase, RoutingControl

from bench.bench_core import prepare
from cmdb.model.definitions import Propagation
from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.records import CI, Relationship
from cmdb.model.registry import load_registry
from cmdb.services import Cmdb
from cmdb.settings import Settings
from cmdb.store.base import LoadKind
from cmdb.store.neo4j import cypher as q
from cmdb.store.neo4j.store import Neo4jStore
from cmdb.store.sqlite.store import SqliteStore
from tests.support.neo4j_server import Neo4jServer, wipe

REGISTRY = load_registry()
FORWARD = REGISTRY.types_propagating(Propagation.TARGET_TO_SOURCE)
GROUPS = REGISTRY.types_propagating(Propagation.REDUNDANCY)
HARDWARE = REGISTRY.descendants("Hardware", concrete_only=True)
RAW_BATCH = 10_000


async def raw_load(driver: AsyncDriver, cis: list[CI], rels: list[Relationship]) -> float:
    """The floor of a bulk load: prepared rows, UNWIND CREATE, 10,000 per transaction."""
    ci_rows = [q.ci_props(c) for c in cis]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in rels:
        by_type.setdefault(r.type, []).append(
            {"source": r.source_id, "target": r.target_id, "props": q.rel_props(r)})
    started = time.perf_counter()
    for i in range(0, len(ci_rows), RAW_BATCH):
        await driver.execute_query("UNWIND $rows AS row CREATE (n:CI) SET n = row "
                                   + q.to_datetimes("n", q.CI_TIMES),
                                   rows=ci_rows[i:i + RAW_BATCH])
    for rtype, rows in by_type.items():
        for i in range(0, len(rows), RAW_BATCH):
            await driver.execute_query(
                f"UNWIND $rows AS row MATCH (a:CI {{id: row.source}})"
                f" MATCH (b:CI {{id: row.target}}) CREATE (a)-[r:{rtype}]->(b)"
                f" SET r = row.props {q.to_datetimes('r', q.REL_TIMES)}",
                rows=rows[i:i + RAW_BATCH])
    return time.perf_counter() - started


def in_batches(cis: list[CI], rels: list[Relationship]
               ) -> Callable[[int, int], Iterator[tuple[LoadKind, Sequence[Any]]]]:
    def chunks(skip: int, size: int) -> Iterator[tuple[LoadKind, Sequence[Any]]]:
        assert skip == 0
        for kind, items in (("ci", cis), ("relationship", rels)):
            for i in range(0, len(items), size):
                yield kind, items[i:i + size]  # type: ignore[misc]  # literal kinds

    return chunks


def raw_bfs(driver: AsyncDriver, starts: list[str], direction: str, types: list[str],
            reverse: list[str], depth: int) -> Callable[[], Awaitable[int]]:
    """A breadth-first search as one would write it with the driver, giving what the
    store's closure gives (each CI once, at its depth, with one parent and the
    relationship from it): in one read transaction, per level, the allowed steps from
    the frontier in one record; the level past the bound tells whether more was
    reachable."""
    out_step, in_step = "(a)-[r:{}]->(b:CI)", "(a)<-[r:{}]-(b:CI)"
    steps = [(out_step if direction == "out" else in_step).format("|".join(types))]
    if reverse:
        steps.append((in_step if direction == "out" else out_step).format("|".join(reverse)))
    union = " UNION ALL ".join(f"MATCH {s} WHERE r.ended_at IS NULL"
                               f" RETURN b.id AS id, r.id AS rel, type(r) AS type" for s in steps)
    cypher = (f"MATCH (a:CI) WHERE a.id IN $frontier CALL (a) {{ {union} }}"
              " RETURN collect([id, a.id, rel, type]) AS steps")

    async def search(tx: AsyncManagedTransaction) -> int:
        reached: dict[str, tuple[int, str | None, str | None, str | None]] = {
            s: (0, None, None, None) for s in starts}
        frontier = list(starts)
        for level in range(1, depth + 2):
            if not frontier:
                break
            found = await (await tx.run(cypher, frontier=frontier)).single()
            assert found is not None
            frontier = []
            for ci, parent, rel, rtype in found["steps"]:
                if ci not in reached:
                    reached[ci] = (level, parent, rel, rtype)
                    frontier.append(ci)
        return len(reached)

    async def run() -> int:
        async with driver.session(default_access_mode=READ_ACCESS) as session:
            return await session.execute_read(search)

    return run


class TxMemory:
    """The largest transaction memory the server reports while it runs (polled)."""

    def __init__(self, uri: str, auth: tuple[str, str]) -> None:
        self.uri, self.auth = uri, auth
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with GraphDatabase.driver(self.uri, auth=self.auth) as driver:
            while not self._stop.is_set():
                try:
                    rows = driver.execute_query(
                        "SHOW TRANSACTIONS YIELD estimatedUsedHeapMemory AS m,"
                        " currentQuery AS q").records
                    self.peak = max([self.peak, *(r["m"] or 0 for r in rows
                                                  if "SHOW TRANSACTIONS" not in r["q"])])
                except Exception:  # the server may be busy: poll again
                    pass
                time.sleep(0.02)

    def __enter__(self) -> TxMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def migrate(sqlite: Path, server: Neo4jServer) -> tuple[float, int]:
    """``cmdb migrate`` as a user runs it: seconds, and the peak transaction memory."""
    env = {**os.environ, "CMDB_STORE_USER": server.auth[0],
           "CMDB_STORE_PASSWORD": server.auth[1]}
    with TxMemory(server.uri, server.auth) as memory:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cmdb.cli.main", "migrate", "--from",
                        f"sqlite:///{sqlite}", "--to", server.uri], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    return seconds, memory.peak


async def bench_size(size: int, repeat: int, server: Neo4jServer) -> dict[str, Any]:
    path, meta = await prepare(size)
    lite = SqliteStore(path)
    await lite.open()
    cis = [c async for c in lite.iter_all("cis")]
    rels = [r async for r in lite.iter_all("relationships")]
    neo = Neo4jStore(server.uri, server.auth, sorted(REGISTRY.relationship_types), timeout=60)
    await neo.open()
    driver = neo.driver
    out: dict[str, Any] = {"cis": len(cis), "relationships": len(rels)}

    # Both loads once at a tenth of the size first: the server's JIT warms up on
    # whichever runs first, and that must not decide the ratio.
    some = cis[:len(cis) // 10]
    ids = {c.id for c in some}
    among = [r for r in rels if r.source_id in ids and r.target_id in ids]
    await neo.wipe()
    await raw_load(driver, some, among)
    await neo.wipe()
    await neo.load(in_batches(some, among), dump_id="warm-up")
    await neo.wipe()
    out["load_raw_s"] = await raw_load(driver, cis, rels)
    await neo.wipe()
    started = time.perf_counter()
    await neo.load(in_batches(cis, rels), dump_id="bench")
    out["load_store_s"] = time.perf_counter() - started
    await neo.wipe()
    out["migrate_s"], out["migrate_peak_tx_bytes"] = migrate(path, server)
    assert await neo.count_cis(CISelection()) == len(cis)

    core = meta["core_switches"][0]
    by_name = {c.name: c.id for c in cis}
    racks = [by_name[f"rack-{i}"] for i in range(3)]
    service = next(c.id for c in cis if c.class_name == "BusinessService")
    sqlite_cmdb = Cmdb.build(Settings(), store=lite, registry=REGISTRY)
    neo_cmdb = Cmdb.build(Settings(), store=neo, registry=REGISTRY)
    reach = await neo.closure([core], "in", FORWARD, 10)
    shaped = await neo.closure(racks, "in", FORWARD, 10, GROUPS)
    impact = await neo_cmdb.impact.impact(racks)
    spof = await neo_cmdb.impact.single_points_of_failure(service)
    out.update(core_reach=len(reach.rows), shaped_reach=len(shaped.rows),
               impacted=len(impact.impacted), spof=len(spof))
    rare = CISelection(classes=("Ups",))
    # The raw pages: the page projected after the limit, as one collected record of
    # property maps (times as text, as the store reads them), not made into CI records.
    list_raw = ("MATCH (n:CI) USING INDEX n:CI(name, id) WHERE n.name IS NOT NULL"
                " AND n.id IS NOT NULL AND n.class IN $classes"
                f" WITH n ORDER BY n.name, n.id LIMIT 101 RETURN collect({q.N}) AS n")
    rare_raw = ("MATCH (n:CI) WHERE n.class IN $classes WITH n ORDER BY n.name, n.id"
                f" LIMIT 101 RETURN collect({q.N}) AS n")
    hardware = CISelection(classes=tuple(HARDWARE))

    # The first page of a filter: a store of its own, whose counts are forgotten before
    # each call (the warm figures keep theirs).
    fresh = Neo4jStore(server.uri, server.auth, sorted(REGISTRY.relationship_types))
    await fresh.open()

    async def cold(query: CISelection) -> Any:
        fresh.forget_plans()
        return await fresh.list_cis(query, CIOrder(), 100, None)

    async def raw(cypher: str, **params: Any) -> Any:
        return await driver.execute_query(cypher, params, routing_=RoutingControl.READ)

    figures: dict[str, Callable[[], Awaitable[Any]]] = {
        "closure_store": lambda: neo.closure([core], "in", FORWARD, 10),
        "closure_raw": raw_bfs(driver, [core], "in", FORWARD, [], 10),
        "shaped_store": lambda: neo.closure(racks, "in", FORWARD, 10, GROUPS),
        "shaped_raw": raw_bfs(driver, racks, "in", FORWARD, GROUPS, 10),
        "impact_neo4j": lambda: neo_cmdb.impact.impact(racks),
        "impact_sqlite": lambda: sqlite_cmdb.impact.impact(racks),
        "spof_neo4j": lambda: neo_cmdb.impact.single_points_of_failure(service),
        "spof_sqlite": lambda: sqlite_cmdb.impact.single_points_of_failure(service),
        "list_store": lambda: neo.list_cis(hardware, CIOrder(), 100, None),
        "list_cold": lambda: cold(hardware),
        "list_raw": lambda: raw(list_raw, classes=HARDWARE),
        "rare_store": lambda: neo.list_cis(rare, CIOrder(), 100, None),
        "rare_cold": lambda: cold(rare),
        "rare_raw": lambda: raw(rare_raw, classes=["Ups"]),
    }
    for call in figures.values():  # warm the server's JIT and query caches
        for _ in range(3):
            await call()
    out.update(await interleaved(figures, repeat))
    await fresh.close()
    await neo.close()
    await lite.close()
    return out


async def interleaved(figures: dict[str, Callable[[], Awaitable[Any]]], repeat: int
                      ) -> dict[str, float]:
    """Median milliseconds of each call, the calls taken in turn round after round (the
    order shifting each round), so a figure and its baseline meet the same load on a
    shared machine."""
    times: dict[str, list[float]] = {name: [] for name in figures}
    names = list(figures)
    for round_ in range(repeat):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            started = time.perf_counter()
            await figures[name]()
            times[name].append((time.perf_counter() - started) * 1000)
    return {f"{name}_ms": statistics.median(t) for name, t in times.items()}


def report(r: dict[str, Any]) -> list[str]:
    records = r["cis"] + r["relationships"]

    def ratio(a: str, b: str, target: str) -> str:
        return (f"{r[a + '_ms']:.1f} ms / {r[b + '_ms']:.1f} ms = "
                f"{r[a + '_ms'] / r[b + '_ms']:.2f}x ({target})")

    return [
        f"{r['cis']:,} CIs, {r['relationships']:,} relationships",
        f"  bulk load: store {records / r['load_store_s']:,.0f} records/s"
        f" ({r['load_store_s']:.1f} s) / raw UNWIND CREATE {records / r['load_raw_s']:,.0f}"
        f" records/s ({r['load_raw_s']:.1f} s) = "
        f"{r['load_raw_s'] / r['load_store_s']:.2f}x the rate (target >= 0.8x)",
        f"  cmdb migrate SQLite -> Neo4j: {r['migrate_s']:.1f} s, peak transaction memory "
        f"{r['migrate_peak_tx_bytes'] / 2**20:.0f} MiB",
        f"  closure of a core switch ({r['core_reach']} CIs): "
        + ratio("closure_store", "closure_raw", "target <= 1.5x"),
        f"  impact-shaped closure ({r['shaped_reach']} CIs): "
        + ratio("shaped_store", "shaped_raw", "target <= 1.5x"),
        f"  impact of 3 racks ({r['impacted']} impacted), Neo4j / SQLite: "
        + ratio("impact_neo4j", "impact_sqlite", "target <= 3x"),
        f"  single points of failure ({r['spof']}), Neo4j / SQLite: "
        + ratio("spof_neo4j", "spof_sqlite", "target <= 3x"),
        "  cis page, 100 hardware CIs by name: "
        + ratio("list_store", "list_raw", "target <= 1.5x")
        + f"; a new filter (plan counted): {r['list_cold_ms']:.1f} ms",
        "  cis page, 100 UPSes by name: " + ratio("rare_store", "rare_raw", "target <= 1.5x")
        + f"; a new filter (plan counted): {r['rare_cold_ms']:.1f} ms",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--heap", default="1g", help="the server's maximum heap")
    parser.add_argument("--page-cache", default="1g", help="the server's page cache")
    args = parser.parse_args()
    # Full JIT (fast_start=False): the tests trade it for start-up time, a benchmark must not.
    server = Neo4jServer(heap=args.heap, initial_heap=args.heap, page_cache=args.page_cache,
                         fast_start=False)
    server.start()
    results = []
    try:
        for size in args.sizes:
            results.append(asyncio.run(bench_size(size, args.repeat, server)))
    finally:
        if not server.external:
            server.cleanup()
        else:
            wipe(server.uri, server.auth)
    print(json.dumps(results, indent=2))
    print(f"Neo4j 5.26 community, heap {args.heap}, page cache {args.page_cache}")
    for r in results:
        print("\n".join(report(r)))


if __name__ == "__main__":
    main()
