"""Bounded memory: the CSV importer streams, so peak memory does not grow with the file."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from importers import Observation, get_importer

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "bench" / "gen_inventory_csv.py"


def _generate(path: Path, rows: int, encoding: str = "gb18030") -> None:
    """Write a synthetic inventory with the benchmark generator."""
    subprocess.run(
        [sys.executable, str(GENERATOR), "--rows", str(rows), "--encoding", encoding, "-o", path],
        check=True,
    )


def _peak_bytes(path: Path) -> tuple[int, int]:
    """Parse ``path`` under tracemalloc; return (observations, peak traced bytes)."""
    tracemalloc.start()
    try:
        count = sum(isinstance(r, Observation) for r in get_importer("csv").run(path))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_generator_help() -> None:
    out = subprocess.run(
        [sys.executable, str(GENERATOR), "--help"], check=True, capture_output=True, text=True
    )
    assert "--rows" in out.stdout
    assert "--encoding" in out.stdout


def test_peak_memory_does_not_grow_with_rows(tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    _generate(small, 5_000)
    _generate(large, 20_000)
    count_small, peak_small = _peak_bytes(small)
    count_large, peak_large = _peak_bytes(large)
    assert (count_small, count_large) == (5_000, 20_000)
    assert peak_large < 10 * 1024 * 1024
    assert peak_large < peak_small * 1.2 + 256 * 1024


CHILD = """
import resource, sys
from pathlib import Path
from importers import Observation, get_importer
path = Path(sys.argv[1])
warm = sum(1 for _, r in zip(range(1000), get_importer("csv").run(path)))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(isinstance(r, Observation) for r in get_importer("csv").run(path))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count, before, after)
"""


@pytest.mark.slow
def test_50k_row_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    """50k GB18030 rows (about 9 MB): peak RSS grows by well under 50 MB while parsing.

    The 1M-row figure is measured in bench/, not here, to keep the suite quick.
    """
    path = tmp_path / "inv50k.csv"
    _generate(path, 50_000)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], check=True, capture_output=True, text=True
    )
    count, before_kib, after_kib = map(int, out.stdout.split())
    assert count == 50_000
    assert (after_kib - before_kib) * 1024 < 50 * 1024 * 1024
