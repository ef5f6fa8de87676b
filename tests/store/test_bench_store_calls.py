"""The store-call benchmark, run small (so it cannot rot): SQLite work leaves the loop free."""

from __future__ import annotations

from bench.bench_store_calls import main


def test_smoke_run_shows_the_loop_is_not_blocked() -> None:
    rows = {name: (off, inline) for name, off, inline in main(["--cis", "50", "--calls", "50"])}
    off, inline = rows["event loop blocked by a ~200 ms query (ms)"]
    assert inline > 50  # the query held the loop when run in-line...
    assert off < inline / 3  # ...and not when run on a reader's thread
