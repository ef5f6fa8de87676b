"""Benchmark impact analysis (SQLite), each figure a ratio measured in the same run.

For each size, on the estate of ``bench/generate.py``:

1. traversal: the store closure behind ``impact`` (propagating types, plus MEMBER_OF to
   the groups) for three racks, against the bare recursive CTE through sqlite3;
2. the ``impact`` service alone (traversal, statuses, services, whom to notify);
3. GraphQL ``impact`` end to end: a real server (uvicorn, token authentication) asked
   over HTTP, in both response shapes: every impacted CI with its ``path``, and the
   lean tree (``reachedFromId``, ``relationshipType``); p50/p95 against the service.

    python -m bench.bench_impact --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench.bench_core import prepare
from cmdb.model.definitions import Propagation
from cmdb.model.queries import CIOrder
from cmdb.model.registry import load_registry
from cmdb.root import connect
from cmdb.services import Cmdb
from cmdb.services.cis.inputs import CIFilterInput
from cmdb.settings import Settings
from cmdb.store.sqlite.closure import closure_sql
from cmdb.store.sqlite.store import SqliteStore
from tests.api.conftest import run_server

PATHS = """query($ids: [ID!]!) { impact(ciIds: $ids) { total truncated
  impacted { ci { id name class } status depth path { type from { name } to { name } } }
  services { ci { name } status } notify { party { name } roles } } }"""
TREE = """query($ids: [ID!]!) { impact(ciIds: $ids) { total truncated
  impacted { ci { id name class } status depth reachedFromId relationshipType }
  services { ci { name } status } notify { party { name } roles } } }"""


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    await fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 2 else max(values)


async def first_racks(cmdb: Cmdb) -> list[str]:
    """Three racks (60 servers in clusters of 8, their VMs, databases, apps, services):
    a blast radius of about 1k CIs, about the same at any CMDB size."""
    found = await cmdb.queries.page(CIFilterInput(class_name="Rack", text="rack-"),
                                    CIOrder(), 500, None)
    by_name = {c.name: c.id for c in found.items}
    return [by_name[f"rack-{i}"] for i in range(3)]


async def traversal(size: int, repeat: int) -> dict[str, Any]:
    registry = load_registry()
    forward = registry.types_propagating(Propagation.TARGET_TO_SOURCE)
    groups = registry.types_propagating(Propagation.REDUNDANCY)
    path, _meta = await prepare(size)
    store = SqliteStore(path)
    cmdb = Cmdb.build(Settings(), store=store, registry=registry)
    await cmdb.open()
    starts = await first_racks(cmdb)
    raw = sqlite3.connect(path)
    args = (json.dumps(starts), json.dumps(forward), 10, json.dumps(groups))

    async def bare() -> Any:
        return raw.execute(closure_sql("in"), args).fetchall()

    out = {
        "path": str(path), "starts": starts,
        "closure_store_ms": statistics.median(await timed(
            lambda: store.closure(starts, "in", forward, 10, groups), repeat)),
        "closure_raw_ms": statistics.median(await timed(bare, repeat)),
    }
    raw.close()
    await cmdb.close()
    return out


def bench_size(size: int, repeat: int) -> dict[str, Any]:
    out = asyncio.run(traversal(size, repeat))
    with tempfile.TemporaryDirectory() as tmp:
        # A copy: the server's API token must not land in the cached estate.
        copy = Path(tmp) / "estate.sqlite3"
        shutil.copyfile(out["path"], copy)
        end_to_end(out, Settings(store_url=f"sqlite:///{copy}"), repeat)
    return out


def end_to_end(out: dict[str, Any], settings: Settings, repeat: int) -> None:
    """The service alone (in this thread's event loop) and the same impact asked of the
    server over HTTP in both shapes, taken in turn round after round."""
    loop = asyncio.new_event_loop()
    cmdb = connect(settings)
    loop.run_until_complete(cmdb.open())
    try:
        for live in run_server(settings):
            def ask(query: str, client: httpx.Client = live.client) -> Callable[[], int]:
                def post() -> int:
                    response = client.post("/graphql", json={
                        "query": query, "variables": {"ids": out["starts"]}})
                    assert response.status_code == 200, response.text
                    body = json.loads(response.content)
                    assert "errors" not in body, body
                    out["impacted"] = len(body["data"]["impact"]["impacted"])
                    return len(response.content)
                return post

            def service() -> int:
                loop.run_until_complete(cmdb.impact.impact(out["starts"]))
                return 0

            calls = {"service": service, "paths": ask(PATHS), "tree": ask(TREE)}
            times: dict[str, list[float]] = {name: [] for name in calls}
            for round_ in range(repeat + 1):
                for name, call in calls.items():
                    started = time.perf_counter()
                    size = call()
                    if round_:  # the first round warms up
                        times[name].append((time.perf_counter() - started) * 1000)
                    if size:
                        out[f"{name}_bytes"] = size
            out["service_ms"] = statistics.median(times["service"])
            for shape in ("paths", "tree"):
                out[f"{shape}_p50_ms"] = statistics.median(times[shape])
                out[f"{shape}_p95_ms"] = p95(times[shape])
    finally:
        loop.run_until_complete(cmdb.close())
        loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    results = [bench_size(size, args.repeat) for size in args.sizes]
    print(json.dumps(results, indent=2))
    for size, r in zip(args.sizes, results, strict=True):
        print(f"{size:,} CIs, 3 racks: {r['impacted']} impacted")
        print(f"  traversal: store {r['closure_store_ms']:.1f} ms / raw CTE "
              f"{r['closure_raw_ms']:.1f} ms = "
              f"{r['closure_store_ms'] / r['closure_raw_ms']:.2f}x (target <= 2x)")
        print(f"  impact service: {r['service_ms']:.1f} ms")
        for shape in ("paths", "tree"):
            print(f"  GraphQL over HTTP, {shape}: p50 {r[f'{shape}_p50_ms']:.1f} ms (p95 "
                  f"{r[f'{shape}_p95_ms']:.1f}), {r[f'{shape}_bytes']:,} bytes = "
                  f"{r[f'{shape}_p50_ms'] / r['service_ms']:.2f}x the service (target <= 2x)")


if __name__ == "__main__":
    main()
