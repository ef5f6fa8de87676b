"""Import + reconcile throughput into a 100k-CI CMDB, and peak memory of a 1M-row dry run.

    .venv/bin/python -m bench.bench_import --store sqlite --rows 20000
    .venv/bin/python -m bench.bench_import --store neo4j --rows 20000
    .venv/bin/python -m bench.bench_import --rss --rows 1000000   # parse + dry run, peak RSS

Throughput: an estate of ``--cis`` CIs (``bench/generate.py``) whose first
``--rows`` servers carry the asset tags, MACs and host names of an inventory sheet
(``bench/gen_inventory_csv.py``). The sheet is parsed once beforehand, then the
import service identifies, reconciles and applies it three times: the first
run updates every matched server (manufacturer, model, state, location, places
created: the "register" run), the second finds nothing to change (the steady
state of a recurring import), and a dry run previews it. Observations per second
are reported against the targets (SQLite >= 20k/s, Neo4j >= 5k/s), parsing excluded
(the parse rate is printed beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.gen_inventory_csv import rows as sheet_rows
from bench.gen_inventory_csv import write as write_sheet
from bench.generate import build_estate, load
from cmdb.importers import Observation, RecordError, get_importer
from cmdb.model.records import CI, Doc
from cmdb.services import Cmdb
from cmdb.services.imports import ImportRequest
from cmdb.settings import Settings
from cmdb.store.base import Store, StoreTx

TARGETS = {"sqlite": 20_000.0, "neo4j": 5_000.0}
RSS_TARGET_MB = 300.0
# The sheet's classes and states as the registered servers get them, so that the
# re-import is a true steady state (报废 rows are retired, and disposed by the import).
CLASSES = {"服务器": "Server", "笔记本": "Laptop", "台式机": "Workstation", "交换机": "Switch",
           "打印机": "Printer"}
STATES = {"在用": "deployed", "闲置": "in_stock", "维修中": "maintenance", "报废": "retired"}


def tag_servers(estate_cis: list[CI], count: int) -> int:
    """Give the first ``count`` servers the identity of the sheet's first rows."""
    servers = [c for c in estate_cis if c.class_name == "Server"]
    for ci, row in zip(servers, sheet_rows(min(count, len(servers)), 1), strict=False):
        ci.asset_tag = row[0]
        ci.class_name = CLASSES[row[2]]
        ci.state = STATES[row[14]]
        ci.attributes.update(mac_addresses=[row[6]], hostnames=[row[8]])
    return min(count, len(servers))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def open_store(kind: str, folder: Path) -> tuple[Cmdb, object | None]:
    if kind == "sqlite":
        cmdb = Cmdb.build(Settings(store_url=f"sqlite:///{folder / 'bench.sqlite3'}"))
        await cmdb.open()
        return cmdb, None
    from pydantic import SecretStr

    from tests.support.neo4j_server import Neo4jServer, wipe

    server = Neo4jServer(fast_start=False, heap="2g")
    server.start()
    wipe(server.uri, server.auth)
    cmdb = Cmdb.build(Settings(store_url=server.uri, store_user=server.auth[0],
                               store_password=SecretStr(server.auth[1])))
    await cmdb.open()
    return cmdb, server


async def floor(store: Store, records: list[Observation | RecordError]) -> float:
    """The baseline of the same run: per chunk of 1000 observations, the store's batched
    tag lookup (records decoded) and one small outcome doc written per observation; no
    reconciliation, no places, no history. Seconds for the whole sheet."""
    tags = [r.asset_tag for r in records if isinstance(r, Observation) and r.asset_tag]
    started = time.perf_counter()
    for i in range(0, len(tags), 1000):
        part = tags[i:i + 1000]
        found = await store.find_cis("asset_tag", part)
        docs = [Doc(kind="bench_floor", parent="floor", key="MATCHED", data={
            "asset_tag": t, "ci_id": found[t][0].id if t in found else None})
            for t in part]

        async def put(tx: StoreTx, docs: list[Doc] = docs) -> None:
            await tx.put_docs(docs)

        await store.write(put)
    return time.perf_counter() - started


async def throughput(kind: str, cis: int, rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sheet = folder / "inventory.csv"
        with sheet.open("wb") as f:
            write_sheet(f, rows, "gb18030", "cn", 1)
        started = time.perf_counter()
        records: list[Observation | RecordError] = list(get_importer("csv").run(sheet))
        parse_s = time.perf_counter() - started
        estate = build_estate(cis)
        matched = tag_servers(estate.cis, rows)
        cmdb, server = await open_store(kind, folder)
        try:
            store: Store = cmdb.store
            load_s = await load(store, estate, progress=False)
            loaded = len(estate.cis)
            del estate  # an import process does not hold the estate in memory
            gc.collect()
            print(f"{kind}: {loaded:,} CIs loaded in {load_s:.1f} s; sheet of "
                  f"{rows:,} rows ({matched:,} registered) parsed in {parse_s:.1f} s "
                  f"({rows / parse_s:,.0f} rows/s)")
            base = await floor(store, records)
            print(f"  {'baseline (lookup + record)':28} {base:6.2f} s  {rows / base:9,.0f} obs/s")
            for label, dry in (("register (updates, places)", False),
                               ("re-import (no change)", False), ("dry run", True)):
                request = ImportRequest("csv", sheet, dry_run=dry, create_places=True,
                                        apply_valid_only=True)
                started = time.perf_counter()
                run = await cmdb.imports.run("bench", request, records=records)
                seconds = time.perf_counter() - started
                rate = rows / seconds
                counts = {k: v for k, v in run.data["counts"].items() if v}
                print(f"  {label:28} {seconds:6.2f} s  {rate:9,.0f} obs/s  "
                      f"{rate / TARGETS[kind]:.2f}x target  {seconds / base:.1f}x baseline  "
                      f"{counts}")
        finally:
            await cmdb.close()
            if server is not None:
                server.stop()  # type: ignore[attr-defined]


async def rss(rows: int) -> None:
    """Parse and dry-run a ``rows``-row GB18030 sheet into an empty SQLite CMDB."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sheet = folder / "inventory.csv"
        with sheet.open("wb") as f:
            write_sheet(f, rows, "gb18030", "cn", 1)
        cmdb, _ = await open_store("sqlite", folder)
        base = peak_rss_mb()
        started = time.perf_counter()
        try:
            run = await cmdb.imports.run("bench", ImportRequest(
                "csv", sheet, dry_run=True, create_places=True))
        finally:
            await cmdb.close()
        seconds = time.perf_counter() - started
        peak = peak_rss_mb()
        print(f"{rows:,}-row sheet ({sheet.stat().st_size / 1e6:.0f} MB) parsed + dry run in "
              f"{seconds:.0f} s ({rows / seconds:,.0f} rows/s): peak RSS {peak:.0f} MB "
              f"(before the run {base:.0f} MB); target < {RSS_TARGET_MB:.0f} MB: "
              f"{peak / RSS_TARGET_MB:.2f}x; counts {run.data['counts']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=sorted(TARGETS), default="sqlite")
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rss", action="store_true", help="measure the 1M-row dry run")
    args = parser.parse_args()
    if args.rss:
        asyncio.run(rss(args.rows))
    else:
        asyncio.run(throughput(args.store, args.cis, args.rows))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
