"""How big a Neo4j a CMDB of N CIs needs: ``cmdb migrate`` into a fresh server of a given
heap and page cache, then its store on disk, transaction memory and resident memory.

For each size, the estate of ``bench/generate.py`` (the SQLite file ``bench_core``
caches), optionally with a history entry per CI and per relationship (``--history``,
as a CMDB built through the API or imports has), is migrated as a user runs it (the
command, in a process of its own) into a Neo4j 5.26 started for it; the largest
transaction memory is polled meanwhile (``SHOW TRANSACTIONS``). The server is then
stopped cleanly (so everything is checkpointed into the store files) and the files of
the database measured. The heap given is the largest it may use: a migrate that needed
more would fail.

    python -m bench.bench_neo4j_sizing --sizes 10000 100000 --heap 512m --page-cache 512m
    python -m bench.bench_neo4j_sizing --sizes 100000 --history
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_core import prepare
from bench.bench_neo4j import migrate
from cmdb.model.records import Channel, EntityKind, FieldChange, HistoryAction, HistoryEntry
from cmdb.store.base import StoreTx
from cmdb.store.sqlite.store import SqliteStore
from tests.support.neo4j_server import Neo4jServer, wipe


async def with_history(source: Path, target: Path) -> int:
    """A copy of ``source`` with a CREATED entry per CI and a RELATED per relationship."""
    shutil.copyfile(source, target)
    store = SqliteStore(target)
    await store.open()
    entries = [HistoryEntry(actor="import", channel=Channel.IMPORT, run_id="run-1",
                            action=HistoryAction.CREATED, entity_kind=EntityKind.CI,
                            entity_id=c.id, ci_id=c.id, version=1,
                            changes=[FieldChange(field="name", before=None, after=c.name)])
               async for c in store.iter_all("cis")]
    entries += [HistoryEntry(actor="import", channel=Channel.IMPORT, run_id="run-1",
                             action=HistoryAction.RELATED,
                             entity_kind=EntityKind.RELATIONSHIP, entity_id=r.id,
                             ci_id=r.source_id, peer_id=r.target_id, version=1)
                async for r in store.iter_all("relationships")]
    for i in range(0, len(entries), 20_000):
        async def add(tx: StoreTx, part: list[HistoryEntry] = entries[i:i + 20_000]) -> None:
            await tx.add_history(part)

        await store.write(add)
    await store.close()
    return len(entries)


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def measure(sqlite: Path, heap: str, page_cache: str) -> dict[str, Any]:
    server = Neo4jServer(heap=heap, initial_heap=heap, page_cache=page_cache,
                         fast_start=False)
    server.start()
    try:
        if server.external:
            wipe(server.uri, server.auth)
        seconds, peak = migrate(sqlite, server)
        out: dict[str, Any] = {"migrate_s": round(seconds, 1),
                               "peak_tx_mib": round(peak / 2**20, 1)}
        if server.external or server.home is None or server.pid is None:
            return out  # a server this script did not start: its files are not ours
        status = Path(f"/proc/{server.pid}/status").read_text()
        out["rss_mib"] = int(status.split("VmRSS:")[1].split()[0]) // 1024
        server.stop()  # a clean shutdown checkpoints: the store files hold everything
        database = server.home / "data" / "databases" / "neo4j"
        out["store_mib"] = round(folder_bytes(database) / 2**20, 1)
        out["indexes_mib"] = round(folder_bytes(database / "schema") / 2**20, 1)
        return out
    finally:
        if server.external:
            wipe(server.uri, server.auth)
        else:
            server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--history", action="store_true",
                        help="a history entry per CI and per relationship")
    parser.add_argument("--heap", default="512m", help="the server's maximum heap")
    parser.add_argument("--page-cache", default="512m", help="the server's page cache")
    args = parser.parse_args()
    for size in args.sizes:
        path, meta = asyncio.run(prepare(size))
        with tempfile.TemporaryDirectory() as tmp:
            history = 0
            if args.history:
                copy = Path(tmp) / "with-history.sqlite3"
                history = asyncio.run(with_history(path, copy))
                path = copy
            figures = measure(path, args.heap, args.page_cache)
        row = {"cis": meta["cis"], "relationships": meta["relationships"],
               "history": history, "heap": args.heap, "page_cache": args.page_cache,
               **figures}
        print(json.dumps(row))
        print(f"{meta['cis']:,} CIs, {meta['relationships']:,} relationships, {history:,} "
              f"history entries: migrate {figures['migrate_s']} s with a {args.heap} heap,"
              f" peak transaction {figures['peak_tx_mib']} MiB; store "
              f"{figures.get('store_mib', '-')} MiB (indexes {figures.get('indexes_mib', '-')}"
              f" MiB), server resident {figures.get('rss_mib', '-')} MiB")


if __name__ == "__main__":
    main()
