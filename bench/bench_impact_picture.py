"""Benchmark the impact picture (SQLite) against the same run's GraphQL impact query.

On the estate of ``bench/generate.py``, for the blast radius of three racks (about
1k impacted CIs at any size):

1. the picture's data: the ``impact`` service and the layout (grouped as the page
   first shows it), in this process;
2. the layout alone, with every CI drawn one by one (no grouping) and grouped;
3. over HTTP from a real server (uvicorn, token authentication): the page
   ``/impact?ids=...`` (picture and list rendered) and, as the baseline, the
   equivalent GraphQL ``impact`` query in its lean tree shape, taken in turn.

    python -m bench.bench_impact_picture --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.bench_core import prepare
from bench.bench_impact import TREE, first_racks, p95
from cmdb.api.pages.impact_picture import layout
from cmdb.root import connect
from cmdb.settings import Settings
from tests.api.conftest import run_server


def bench_size(size: int, repeat: int) -> dict[str, Any]:
    path, _meta = asyncio.run(prepare(size))
    with tempfile.TemporaryDirectory() as tmp:
        # A copy: the server's API token must not land in the cached estate.
        copy = Path(tmp) / "estate.sqlite3"
        shutil.copyfile(path, copy)
        return measure(Settings(store_url=f"sqlite:///{copy}"), repeat)


def measure(settings: Settings, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    cmdb = connect(settings)
    loop.run_until_complete(cmdb.open())
    try:
        starts = loop.run_until_complete(first_racks(cmdb))
        report = loop.run_until_complete(cmdb.impact.impact(starts))
        out["impacted"] = len(report.impacted)
        drawn = layout(report)
        out["grouped_nodes"] = len(drawn.nodes)
        out["all_nodes"] = len(layout(report, threshold=len(report.impacted)).nodes)
        for live in run_server(settings):
            def data() -> None:
                layout(loop.run_until_complete(cmdb.impact.impact(starts)))

            def page(client: httpx.Client = live.client) -> None:
                r = client.get("/impact", params={"ids": ",".join(starts)},
                                    headers={"Accept": "text/html"})
                assert r.status_code == 200, r.text[:500]
                assert "impact-picture" in r.text
                out["page_bytes"] = len(r.content)

            def graphql(client: httpx.Client = live.client) -> None:
                r = client.post("/graphql", json={"query": TREE,
                                                       "variables": {"ids": starts}})
                body = json.loads(r.content)
                assert r.status_code == 200, r.text[:500]
                assert "errors" not in body, body

            def layout_all() -> None:
                layout(report, threshold=len(report.impacted))

            def layout_grouped() -> None:
                layout(report)

            calls: dict[str, Callable[[], None]] = {
                "data": data, "page": page, "graphql": graphql,
                "layout_all": layout_all, "layout_grouped": layout_grouped}
            times: dict[str, list[float]] = {name: [] for name in calls}
            for round_ in range(repeat + 1):
                for name, call in calls.items():
                    started = time.perf_counter()
                    call()
                    if round_:  # the first round warms up
                        times[name].append((time.perf_counter() - started) * 1000)
            for name, values in times.items():
                out[f"{name}_ms"] = statistics.median(values)
                out[f"{name}_p95_ms"] = p95(values)
    finally:
        loop.run_until_complete(cmdb.close())
        loop.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    results = [bench_size(size, args.repeat) for size in args.sizes]
    print(json.dumps(results, indent=2))
    for size, r in zip(args.sizes, results, strict=True):
        print(f"{size:,} CIs, 3 racks: {r['impacted']} impacted, drawn as "
              f"{r['grouped_nodes']} nodes grouped ({r['all_nodes']} one by one)")
        print(f"  picture data (impact + layout): {r['data_ms']:.1f} ms (p95 "
              f"{r['data_p95_ms']:.1f}; target < 300 ms) = "
              f"{r['data_ms'] / r['graphql_ms']:.2f}x the GraphQL impact query "
              f"({r['graphql_ms']:.1f} ms, same run)")
        print(f"  layout alone: {r['layout_all_ms']:.1f} ms every CI drawn, "
              f"{r['layout_grouped_ms']:.1f} ms grouped")
        print(f"  page over HTTP: {r['page_ms']:.1f} ms (p95 {r['page_p95_ms']:.1f}), "
              f"{r['page_bytes']:,} bytes = {r['page_ms'] / r['graphql_ms']:.2f}x the "
              "GraphQL impact query")


if __name__ == "__main__":
    main()
