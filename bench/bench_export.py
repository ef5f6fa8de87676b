"""Benchmark of the register export on SQLite: 100,000 CIs as CSV and as XLSX.

The baseline, measured in the same run, is the raw paging read of the same rows (the
store's ``list_cis`` cursor pages, CI records built, nothing written): the ratio says
what the export adds to reading the register. Memory: tracemalloc's peak while the CSV
export streams, beside the peak of holding every row at once (what an export that
builds the file in memory would need).

    .venv/bin/python -m bench.bench_export [--cis 100000] [--page 500]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

from bench.generate import build_estate, load
from cmdb.model.queries import CIOrder, CISelection, Cursor
from cmdb.root import connect
from cmdb.services.cis.export import CIExport, Encoding, Format, chunks
from cmdb.settings import Settings

MIB = 1024 * 1024


async def _drain(stream: AsyncIterator[bytes]) -> int:
    return sum([len(b) async for b in stream])


async def _raw_read(export: CIExport, page: int) -> int:
    """Every CI through the store's cursor pages, as the export reads them."""
    after: Cursor | None = None
    n = 0
    while True:
        got = await export.store.list_cis(CISelection(), CIOrder(), page, after)
        n += len(got.items)
        if not got.has_next or not got.cursors:
            return n
        after = got.cursors[-1]


async def _all_rows(export: CIExport) -> int:
    """Every row held at once: what building the file in memory would hold."""
    selection = CISelection()
    sheet = export.sheet(selection)
    rows = []
    async for page in export.pages(selection):
        rows += await export.rows(page, sheet, "zh-CN")
    return len(rows)


async def run(cis: int, page: int, folder: Path) -> None:
    db = folder / "export.sqlite3"
    cmdb = connect(Settings(store_url=f"sqlite:///{db}", time_zone="UTC"))
    await cmdb.open(create=True)
    try:
        estate = build_estate(cis)
        await load(cmdb.store, estate, progress=False)
        total = len(estate.cis)
        del estate
        export = CIExport(cmdb.store, cmdb.registry, cmdb.queries, page_size=page)
        print(f"{total:,} CIs on SQLite, pages of {page}")

        await _raw_read(export, page)  # warm: the baseline and the export read alike
        start = time.perf_counter()
        read = await _raw_read(export, page)
        raw = time.perf_counter() - start
        assert read == total
        print(f"baseline, raw paging read: {raw:.2f} s ({total / raw:,.0f} CIs/s)")

        runs: list[tuple[str, Format, Encoding]] = [
            ("csv utf-8-sig", "csv", "utf-8-sig"), ("csv gb18030", "csv", "gb18030"),
            ("xlsx", "xlsx", "utf-8-sig")]
        for label, fmt, encoding in runs:
            export = CIExport(cmdb.store, cmdb.registry, cmdb.queries, page_size=page)
            start = time.perf_counter()
            size = await _drain(chunks(export, None, fmt, lang="zh-CN", encoding=encoding))
            took = time.perf_counter() - start
            print(f"export {label}: {took:.2f} s ({total / took:,.0f} CIs/s, "
                  f"{size / MIB:.1f} MiB); ratio to the raw read {took / raw:.1f}x")

        export = CIExport(cmdb.store, cmdb.registry, cmdb.queries, page_size=page)
        tracemalloc.start()
        await _drain(chunks(export, None, "csv"))
        _now, streamed = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tracemalloc.start()
        await _all_rows(CIExport(cmdb.store, cmdb.registry, cmdb.queries, page_size=page))
        _now, held = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak memory (tracemalloc): streamed CSV export {streamed / MIB:.1f} MiB; "
              f"every row held at once {held / MIB:.1f} MiB; ratio {streamed / held:.3f}")
    finally:
        await cmdb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cis", type=int, default=100_000, help="CIs in the estate")
    parser.add_argument("--page", type=int, default=500, help="CIs read per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        asyncio.run(run(args.cis, args.page, Path(folder)))


if __name__ == "__main__":
    main()
