"""Benchmark the store's `cis` listing and closure primitive against the raw SQL.

For each size (default 10k and 100k CIs) it generates a synthetic CMDB
(bench/generate.py, cached under .cache/bench/), then times, in the same run:

- listing: ``store.list_cis`` for a page of 100 hardware CIs ordered by name,
  against the bare SQL statement through sqlite3 (rows fetched, not converted);
- closure: ``store.closure`` upstream of a core switch (the blast radius of a
  switch outage, ~1k CIs), against the bare recursive CTE through sqlite3.

It prints median times and the ratio to the raw query measured in the same run.

    python bench/bench_core.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.generate import build_estate, load
from cmdb.model.definitions import Propagation
from cmdb.model.queries import CIOrder, CISelection
from cmdb.model.registry import load_registry
from cmdb.store.sqlite.closure import closure_sql
from cmdb.store.sqlite.sql import CI_COLUMNS
from cmdb.store.sqlite.store import SqliteStore

#: Where generated estates are kept between runs (``CMDB_BENCH_CACHE`` moves it).
CACHE = Path(os.environ.get("CMDB_BENCH_CACHE")
             or Path(__file__).resolve().parent.parent / ".cache" / "bench")
IMPACT_TYPES = load_registry().types_propagating(Propagation.TARGET_TO_SOURCE)


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


async def amedian_ms(fn: Callable[[], Awaitable[Any]], repeat: int) -> float:
    await fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        await fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _cached(size: int) -> tuple[Path, dict[str, Any] | None]:
    """The cached estate of this size and its landmarks (None: to be generated)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"cmdb-{size}.sqlite3"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        return path, json.loads(meta_path.read_text())
    for stale in CACHE.glob(f"cmdb-{size}.sqlite3*"):
        stale.unlink()
    return path, None


async def prepare(size: int) -> tuple[Path, dict[str, Any]]:
    path, meta = _cached(size)
    if meta is not None:
        return path, meta
    estate = build_estate(size)
    store = SqliteStore(path)
    await store.open()
    seconds = await load(store, estate, progress=False)
    await store.close()
    meta = {"cis": len(estate.cis), "relationships": len(estate.rels),
            "core_switches": estate.core_switches, "load_seconds": seconds}
    path.with_suffix(".json").write_text(json.dumps(meta))
    return path, meta


async def bench_size(size: int, repeat: int) -> dict[str, Any]:
    path, meta = await prepare(size)
    store = SqliteStore(path)
    await store.open()
    raw = sqlite3.connect(path)
    hardware = load_registry().descendants("Hardware", concrete_only=True)
    selection = CISelection(classes=tuple(hardware))
    list_sql = (f"SELECT {CI_COLUMNS} FROM cis WHERE class IN (SELECT value FROM json_each(?))"
                " ORDER BY name, id LIMIT 101")
    start = meta["core_switches"][0]
    types = json.dumps(IMPACT_TYPES)
    reach = await store.closure([start], "in", IMPACT_TYPES, 10)

    out = {
        "size": meta["cis"], "relationships": meta["relationships"],
        "blast_radius": len(reach.rows),
        "list_store_ms": await amedian_ms(
            lambda: store.list_cis(selection, CIOrder(), 100, None), repeat),
        "list_raw_ms": median_ms(
            lambda: raw.execute(list_sql, (json.dumps(hardware),)).fetchall(), repeat),
        "closure_store_ms": await amedian_ms(
            lambda: store.closure([start], "in", IMPACT_TYPES, 10), repeat),
        "closure_raw_ms": median_ms(
            lambda: raw.execute(closure_sql("in"),
                                (json.dumps([start]), types, 10, "[]")).fetchall(),
            repeat),
    }
    raw.close()
    await store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"{'CIs':>8} {'rels':>8} {'reach':>6} | {'list store':>10} {'raw':>7} {'ratio':>6} |"
          f" {'closure store':>13} {'raw':>7} {'ratio':>6}")
    for size in args.sizes:
        r = asyncio.run(bench_size(size, args.repeat))
        print(f"{r['size']:>8} {r['relationships']:>8} {r['blast_radius']:>6} | "
              f"{r['list_store_ms']:>8.2f}ms {r['list_raw_ms']:>5.2f}ms "
              f"{r['list_store_ms'] / r['list_raw_ms']:>5.2f}x | "
              f"{r['closure_store_ms']:>11.2f}ms {r['closure_raw_ms']:>5.2f}ms "
              f"{r['closure_store_ms'] / r['closure_raw_ms']:>5.2f}x")


if __name__ == "__main__":
    main()
