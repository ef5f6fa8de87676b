"""Benchmark the query box (``cis(filter: {search: ...})``) on SQLite and on Neo4j, each
figure against a baseline measured in the same run.

On the estate of ``bench/generate.py`` with addresses (every server and VM has an IPv4
address, a MAC, a host name and an FQDN: :func:`addressed`), loaded into a fresh SQLite
file and into Neo4j (the one ``CMDB_TEST_NEO4J_URI`` names, or one the script starts),
the first page of 50 through the store (``list_cis``, what the console and GraphQL call):

- an IP address, a MAC (typed in Cisco notation): against the raw lookup of one CI by
  its id (the primary key / unique id index), the cheapest indexed read there is; and,
  to show what the index saves, the attribute filter that matches the same value
  without it (a scan of every CI's JSON / list property);
- a rare text (a host name fragment matching one rack's servers) and a common one
  (``srv``: a third of the CIs): against the raw substring query on the name alone,
  ordered by name (what the ``text`` filter was before the box).

    python -m bench.bench_search --sizes 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from neo4j import RoutingControl

from bench.bench_neo4j import in_batches, interleaved
from bench.generate import Estate, build_estate, load
from cmdb.model.queries import AttributeMatch, CIOrder, CISelection
from cmdb.model.registry import load_registry
from cmdb.model.search import parse_search
from cmdb.store.base import Store
from cmdb.store.neo4j import cypher as q
from cmdb.store.neo4j.store import Neo4jStore
from cmdb.store.sqlite.sql import CI_COLUMNS
from cmdb.store.sqlite.store import SqliteStore
from tests.support.neo4j_server import Neo4jServer, wipe

PAGE = 50


def addressed(estate: Estate) -> Estate:
    """Give every server and VM an address, a MAC, a host name and an FQDN, as an agent
    would report them (deterministic: the n-th such CI gets 10.x.y.z from n)."""
    n = 0
    for ci in estate.cis:
        if ci.class_name in ("Server", "VirtualMachine"):
            n += 1
            b = n.to_bytes(3, "big")
            ci.attributes.update(
                ip_addresses=[f"10.{b[0]}.{b[1]}.{b[2]}"],
                mac_addresses=["00:1a:2b:" + ":".join(f"{x:02x}" for x in b)],
                hostnames=[ci.name], fqdn=f"{ci.name}.dc1.example.cn")
    return estate


def queries(estate: Estate) -> dict[str, str]:
    """What people type: a server's address, a VM's MAC in Cisco notation, a host name
    fragment (one rack's servers) and a common fragment."""
    server = next(c for c in estate.cis if c.class_name == "Server")
    vm = next(c for c in reversed(estate.cis) if c.class_name == "VirtualMachine")
    mac = vm.attributes["mac_addresses"][0].replace(":", "")
    return {"ip": server.attributes["ip_addresses"][0],
            "mac": f"{mac[:4]}.{mac[4:8]}.{mac[8:]}".upper(),
            "rare": "rack-7-srv-1", "common": "srv"}


async def store_figures(store: Store, typed: dict[str, str]
                        ) -> dict[str, Callable[[], Awaitable[Any]]]:
    out: dict[str, Callable[[], Awaitable[Any]]] = {}
    for kind, text in typed.items():
        selection = CISelection(search=parse_search(text))
        page = await store.list_cis(selection, CIOrder(), PAGE, None)
        assert page.items, f"{kind}: {text!r} found nothing"
        out[kind] = partial(store.list_cis, selection, CIOrder(), PAGE, None)
    return out


async def bench_size(size: int, repeat: int, server: Neo4jServer, where: Path
                     ) -> dict[str, Any]:
    estate = addressed(build_estate(size))
    typed = queries(estate)
    ip, mac = typed["ip"], parse_search(typed["mac"]).mac  # type: ignore[union-attr]
    some_id = estate.cis[len(estate.cis) // 2].id
    out: dict[str, Any] = {"cis": len(estate.cis), "typed": typed}

    lite = SqliteStore(where / f"search-{size}.sqlite3")
    await lite.open()
    await load(lite, estate, progress=False)
    raw_lite = sqlite3.connect(where / f"search-{size}.sqlite3")
    page_sql = f"SELECT {CI_COLUMNS} FROM cis WHERE {{}} ORDER BY name, id LIMIT {PAGE + 1}"
    like = page_sql.format("name LIKE ? ESCAPE '\\'")

    def sql(statement: str, *args: Any) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:
            return raw_lite.execute(statement, args).fetchall()
        return run

    lite_store = await store_figures(lite, typed)
    figures: dict[str, Callable[[], Awaitable[Any]]] = {
        **{f"sqlite_{k}": v for k, v in lite_store.items()},
        "sqlite_by_id": sql(f"SELECT {CI_COLUMNS} FROM cis WHERE id = ?", some_id),
        "sqlite_ip_unindexed": lambda: lite.list_cis(CISelection(attributes=(
            AttributeMatch("ip_addresses", ip),)), CIOrder(), PAGE, None),
        "sqlite_rare_name": sql(like, f"%{typed['rare']}%"),
        "sqlite_common_name": sql(like, f"%{typed['common']}%"),
    }

    neo = Neo4jStore(server.uri, server.auth, sorted(load_registry().relationship_types),
                     timeout=120)
    await neo.open()
    await neo.wipe()
    await neo.load(in_batches(estate.cis, estate.rels), dump_id="bench-search")

    def cypher(statement: str, **params: Any) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:
            return await neo.driver.execute_query(statement, params,
                                                  routing_=RoutingControl.READ)
        return run

    name_page = ("MATCH (n:CI) WHERE toLower(n.name) CONTAINS $t WITH n ORDER BY n.name, n.id"
                 f" LIMIT {PAGE + 1} RETURN collect({q.N}) AS n")
    figures.update({
        **{f"neo4j_{k}": v for k, v in (await store_figures(neo, typed)).items()},
        "neo4j_by_id": cypher(f"MATCH (n:CI {{id: $id}}) RETURN {q.N} AS n", id=some_id),
        "neo4j_ip_unindexed": cypher(
            f"MATCH (n:CI) WHERE $ip IN n.{q.ATTR}ip_addresses WITH n ORDER BY n.name, n.id"
            f" LIMIT {PAGE + 1} RETURN collect({q.N}) AS n", ip=ip),
        "neo4j_mac_unindexed": cypher(
            f"MATCH (n:CI) WHERE $mac IN n.{q.ATTR}mac_addresses WITH n ORDER BY n.name, n.id"
            f" LIMIT {PAGE + 1} RETURN collect({q.N}) AS n", mac=mac),
        "neo4j_rare_name": cypher(name_page, t=typed["rare"]),
        "neo4j_common_name": cypher(name_page, t=typed["common"]),
    })
    for call in figures.values():  # warm caches and the server's JIT
        for _ in range(3):
            await call()
    out.update(await interleaved(figures, repeat))
    await neo.wipe()
    await neo.close()
    raw_lite.close()
    await lite.close()
    return out


def report(r: dict[str, Any]) -> list[str]:
    def ratio(a: str, b: str) -> str:
        return (f"{r[a + '_ms']:.2f} ms / {r[b + '_ms']:.2f} ms = "
                f"{r[a + '_ms'] / r[b + '_ms']:.2f}x")

    lines = [f"{r['cis']:,} CIs; typed: {r['typed']}"]
    for db in ("sqlite", "neo4j"):
        lines += [
            f"  {db}: an IP, page of {PAGE} / one CI by id: {ratio(db + '_ip', db + '_by_id')}"
            f" (target <= 5x); without the index: {r[db + '_ip_unindexed_ms']:.1f} ms",
            f"  {db}: a MAC (Cisco notation) / one CI by id: "
            f"{ratio(db + '_mac', db + '_by_id')} (target <= 5x)",
            f"  {db}: a rare fragment (name, tag, serial, host names) / the name alone: "
            f"{ratio(db + '_rare', db + '_rare_name')} (target <= 2x)",
            f"  {db}: a common fragment / the name alone: "
            f"{ratio(db + '_common', db + '_common_name')} (target <= 2x)",
        ]
        if db == "neo4j":
            lines[-4] += f", the MAC without it: {r['neo4j_mac_unindexed_ms']:.1f} ms"
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--heap", default="1g", help="the server's maximum heap")
    parser.add_argument("--page-cache", default="1g", help="the server's page cache")
    args = parser.parse_args()
    server = Neo4jServer(heap=args.heap, initial_heap=args.heap, page_cache=args.page_cache,
                         fast_start=False)
    server.start()
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-search-") as where:
            for size in args.sizes:
                results.append(asyncio.run(bench_size(size, args.repeat, server,
                                                      Path(where))))
    finally:
        if not server.external:
            server.cleanup()
        else:
            wipe(server.uri, server.auth)
    print(json.dumps(results, indent=2))
    for r in results:
        print("\n".join(report(r)))


if __name__ == "__main__":
    main()
