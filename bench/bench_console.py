"""Benchmark the console's first screens (SQLite) against the same data asked of GraphQL,
each figure a ratio measured in the same run.

For each size, on the estate of ``bench/generate.py``, a real server (uvicorn, token
authentication) is asked over HTTP, round after round, for each page and for the GraphQL
query that reads what the page shows:

* ``/`` (counts by class and by state)  vs  ``cis { totalCount }`` per state;
* ``/cis?q=srv-1`` (the query box)      vs  ``cis(filter: {search})`` with the same columns;
* ``/cis?class=Server&sort=updated``    vs  ``cis(filter: {class}, orderBy)``;
* ``/cis/{id}`` (a server's page)       vs  ``ci(id)`` with attributes, relationships
  both ways and history.

Target: every page's p50 under 200 ms at 100k CIs, on SQLite and on Neo4j.

    python -m bench.bench_console --sizes 10000 100000
    python -m bench.bench_console --store neo4j --sizes 100000 --heap 1g --page-cache 1g
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
from pydantic import SecretStr

from bench.bench_core import prepare
from bench.bench_impact import p95
from bench.bench_neo4j import in_batches
from bench.generate import build_estate
from cmdb.model.registry import load_registry
from cmdb.settings import Settings
from cmdb.store.neo4j.store import Neo4jStore
from tests.api.conftest import run_server
from tests.support.neo4j_server import Neo4jServer, wipe

HTML = {"Accept": "text/html"}
CI_PAGE = """query($id: ID!) { ci(id: $id) { id name class state assetTag serialNumber
  version createdAt updatedAt attributes provenance
  outgoing(first: 50) { edges { node { id type to { id name assetTag } } } }
  incoming(first: 50) { edges { node { id type from { id name assetTag } } } }
  history(first: 30) { nodes { at actor channel action reason
    changes { field before after } } } } }"""
LIST = """query($f: CIFilter, $o: CIOrder) { cis(filter: $f, orderBy: $o, first: 50) {
  edges { cursor node { id name class state assetTag serialNumber } }
  pageInfo { hasNextPage endCursor } } }"""


def counts_query(states: list[str]) -> str:
    parts = [f'{s}: cis(filter: {{states: ["{s}"]}}, first: 0) {{ totalCount }}'
             for s in states]
    return "{ all: cis(first: 0) { totalCount } " + " ".join(parts) + " }"


def bench_size(size: int, repeat: int, server: Neo4jServer | None = None) -> dict[str, Any]:
    path, meta = asyncio.run(prepare(size))
    out: dict[str, Any] = {"size": meta["cis"], "store": "neo4j" if server else "sqlite"}
    with tempfile.TemporaryDirectory() as tmp:
        if server is None:
            copy = Path(tmp) / "estate.sqlite3"  # the server's token stays out of the cache
            shutil.copyfile(path, copy)
            settings = Settings(store_url=f"sqlite:///{copy}")
        else:
            asyncio.run(to_neo4j(size, server))
            settings = Settings(store_url=server.uri, store_user=server.auth[0],
                                store_password=SecretStr(server.auth[1]), store_timeout=120)
        for live in run_server(settings):
            client = live.client
            listed = client.post("/graphql", json={"query": LIST, "variables": {
                "f": {"class": "Server", "text": "srv-1"}}}).json()
            ci_id = listed["data"]["cis"]["edges"][0]["node"]["id"]
            states = ["deployed", "in_stock", "maintenance", "retired"]

            def page(url: str, client: httpx.Client = client) -> Callable[[], int]:
                def get() -> int:
                    r = client.get(url, headers=HTML)
                    assert r.status_code == 200, (url, r.status_code, r.text[:300])
                    return len(r.content)
                return get

            def gql(query: str, variables: dict[str, Any] | None = None,
                    client: httpx.Client = client) -> Callable[[], int]:
                def post() -> int:
                    r = client.post("/graphql", json={"query": query,
                                                      "variables": variables or {}})
                    body = r.json()
                    assert r.status_code == 200, body
                    assert "errors" not in body, body
                    return len(r.content)
                return post

            pairs: dict[str, tuple[Callable[[], int], Callable[[], int]]] = {
                "home": (page("/"), gql(counts_query(states))),
                "search": (page("/cis?q=srv-1"), gql(LIST, {"f": {"search": "srv-1"}})),
                "browse": (page("/cis?class=Server&sort=updated"),
                           gql(LIST, {"f": {"class": "Server"},
                                      "o": {"field": "UPDATED_AT", "direction": "DESC"}})),
                "ci": (page(f"/cis/{ci_id}"), gql(CI_PAGE, {"id": ci_id})),
            }
            times: dict[str, list[float]] = {f"{n}_{k}": [] for n in pairs
                                             for k in ("page", "graphql")}
            for round_ in range(repeat + 1):
                for name, (as_page, as_graphql) in pairs.items():
                    for kind, call in (("page", as_page), ("graphql", as_graphql)):
                        started = time.perf_counter()
                        call()
                        if round_:  # the first round warms up
                            times[f"{name}_{kind}"].append(
                                (time.perf_counter() - started) * 1000)
            for key, values in times.items():
                out[f"{key}_p50_ms"] = statistics.median(values)
                out[f"{key}_p95_ms"] = p95(values)
    return out


async def to_neo4j(size: int, server: Neo4jServer) -> None:
    """The same generated estate, loaded into the (wiped) Neo4j server."""
    estate = build_estate(size)
    neo = Neo4jStore(server.uri, server.auth, sorted(load_registry().relationship_types),
                     timeout=120)
    await neo.open()
    try:
        await neo.wipe()
        await neo.load(in_batches(estate.cis, estate.rels), dump_id=f"bench-console-{size}")
    finally:
        await neo.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--store", choices=["sqlite", "neo4j"], default="sqlite")
    parser.add_argument("--heap", default="1g", help="Neo4j: the server's maximum heap")
    parser.add_argument("--page-cache", default="1g", help="Neo4j: the server's page cache")
    args = parser.parse_args()
    if args.store == "sqlite":
        results = [bench_size(size, args.repeat) for size in args.sizes]
    else:
        server = Neo4jServer(heap=args.heap, initial_heap=args.heap,
                             page_cache=args.page_cache, fast_start=False)
        server.start()
        try:
            results = [bench_size(size, args.repeat, server) for size in args.sizes]
        finally:
            if not server.external:
                server.cleanup()
            else:
                wipe(server.uri, server.auth)
    print(json.dumps(results, indent=2))
    for r in results:
        print(f"{r['size']:,} CIs ({r['store']}), p50 over HTTP:")
        for name in ("home", "search", "browse", "ci"):
            page, graphql = r[f"{name}_page_p50_ms"], r[f"{name}_graphql_p50_ms"]
            print(f"  {name:7} page {page:6.1f} ms (p95 {r[f'{name}_page_p95_ms']:.1f}) / "
                  f"GraphQL {graphql:6.1f} ms = {page / graphql:.2f}x "
                  f"(target: page < 200 ms)")


if __name__ == "__main__":
    main()
