"""What running SQLite off the event loop costs per store call.

Each store call runs on a reader (or the writer) connection's own thread, so that no
query, and no ``BEGIN IMMEDIATE`` waiting for another process, blocks the event loop.
This measures, in the same run, one store read (``get_cis``) through the store against
the same function called in-line on the loop (what the adapter did before), for one
CI and for a batch of 100, and a small write transaction against the same statements
run in-line; and how long the event loop stays blocked by a 200 ms query each way.

    python -m bench.bench_store_calls [--cis 2000] [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cmdb.model.records import CI
from cmdb.store.base import StoreTx
from cmdb.store.sqlite.sql import _get_cis
from cmdb.store.sqlite.store import SqliteStore


async def per_call_us(fn: Callable[[], Awaitable[Any]], calls: int) -> float:
    await fn()
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls // 5):
            await fn()
        rounds.append((time.perf_counter() - started) / (calls // 5) * 1e6)
    return statistics.median(rounds)


async def loop_stall_ms(work: Callable[[], Awaitable[Any]]) -> float:
    """The longest the event loop went without running a 1 ms ticker during ``work``."""
    worst = 0.0
    done = False

    async def tick() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    await work()
    done = True
    await ticker
    return worst * 1000


async def run(cis: int, calls: int) -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        store = SqliteStore(path)
        await store.open()
        items = [CI(class_name="Server", name=f"srv-{i:05d}", state="deployed")
                 for i in range(cis)]

        async def load(tx: StoreTx) -> None:
            await tx.insert_cis(items)

        await store.write(load)
        ids = [c.id for c in items]
        raw = sqlite3.connect(path, isolation_level=None)
        raw.row_factory = sqlite3.Row
        raw.execute("PRAGMA synchronous=NORMAL")  # as the store's connections

        async def inline_one() -> None:
            _get_cis(raw, ids[:1])

        async def store_one() -> None:
            await store.get_cis(ids[:1])

        async def inline_batch() -> None:
            _get_cis(raw, ids[:100])

        async def store_batch() -> None:
            await store.get_cis(ids[:100])

        counter = iter(range(10**9))

        async def inline_write() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("UPDATE cis SET name = ? WHERE id = ?", (f"n{next(counter)}", ids[0]))
            raw.execute("COMMIT")

        async def store_write() -> None:
            name = f"n{next(counter)}"

            async def work(tx: StoreTx) -> None:
                assert isinstance(tx.conn, sqlite3.Connection)  # type: ignore[attr-defined]
                tx.conn.execute(  # type: ignore[attr-defined]
                    "UPDATE cis SET name = ? WHERE id = ?", (name, ids[0]))

            await store.write(work)

        slow = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                "WHERE x < ?) SELECT count(*) FROM n")
        size = 200_000
        started = time.perf_counter()
        raw.execute(slow, (size,)).fetchone()
        while time.perf_counter() - started < 0.2:
            size *= 2
            started = time.perf_counter()
            raw.execute(slow, (size,)).fetchone()

        async def inline_slow() -> None:
            raw.execute(slow, (size,)).fetchone()

        async def store_slow() -> None:
            await store._reader_pool.run(  # type: ignore[union-attr]
                lambda conn: conn.execute(slow, (size,)).fetchone())

        rows = [
            ("get_cis, 1 CI (us)", await per_call_us(store_one, calls),
             await per_call_us(inline_one, calls)),
            ("get_cis, 100 CIs (us)", await per_call_us(store_batch, calls // 10),
             await per_call_us(inline_batch, calls // 10)),
            ("write, 1 update (us)", await per_call_us(store_write, calls // 4),
             await per_call_us(inline_write, calls // 4)),
            ("event loop blocked by a ~200 ms query (ms)", await loop_stall_ms(store_slow),
             await loop_stall_ms(inline_slow)),
        ]
        raw.close()
        await store.close()
        return rows


def main(argv: list[str] | None = None) -> list[tuple[str, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.cis, args.calls))
    print(f"{'':45} {'off the loop':>13} {'in-line':>10} {'ratio':>7}")
    for name, off, inline in rows:
        print(f"{name:45} {off:13.1f} {inline:10.1f} {off / inline:6.2f}x")
    return rows


if __name__ == "__main__":
    main()
