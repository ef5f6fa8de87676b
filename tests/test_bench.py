"""Every benchmark in bench/ runs, at a tiny size, as a user runs it: a bench that no
longer runs fails here, not on the day its figures are needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.neo4j_server import ENV_PASSWORD, ENV_URI, ENV_USER, Neo4jServer

ROOT = Path(__file__).resolve().parent.parent
SMOKE: dict[str, tuple[list[str], str]] = {
    # module: (tiny arguments, what its output must say)
    "bench.bench_core": (["--sizes", "500", "--repeat", "1"], "ratio"),
    "bench.bench_console": (["--store", "neo4j", "--sizes", "500", "--repeat", "1",
                             "--heap", "512m", "--page-cache", "64m"], "(neo4j), p50"),
    "bench.bench_impact": (["--sizes", "500", "--repeat", "1"], "the service"),
    "bench.bench_impact_picture": (["--sizes", "500", "--repeat", "1"], "picture data"),
    "bench.bench_neo4j": (["--sizes", "500", "--repeat", "1", "--heap", "512m",
                           "--page-cache", "64m"], "cmdb migrate SQLite -> Neo4j"),
    "bench.bench_neo4j_sizing": (["--sizes", "500", "--history"], "peak transaction"),
    "bench.bench_labels": (["--labels", "3", "--qr", "5"], "labels"),
    "bench.bench_load": (["--store", "both", "--clients", "2", "--seconds", "1"], "neo4j"),
    "bench.bench_import": (["--store", "neo4j", "--cis", "300", "--rows", "30"], "obs/s"),
    "bench.bench_campaign": (["--cis", "300", "--sightings", "60", "--batch", "30"],
                             "campaign page"),
    "bench.generate": (["--cis", "300", "--db", "{tmp}/generated.sqlite3"], "records/s"),
    "bench.gen_inventory_csv": (["--rows", "5", "-o", "{tmp}/sheet.csv"], ""),
    "bench.bench_store_calls": (["--cis", "200", "--calls", "50"], "event loop blocked"),
    "bench.bench_export": (["--cis", "300", "--page", "50"], "ratio to the raw read"),
    "bench.bench_search": (["--sizes", "2000", "--repeat", "1", "--heap", "512m",
                            "--page-cache", "64m"], "a MAC (Cisco notation)"),
}


# Modules of bench/ that are parts of a benchmark, not benchmarks (run through theirs).
PARTS = {"bench.import_floor"}


def test_every_bench_is_smoke_run() -> None:
    benches = {f"bench.{p.stem}" for p in (ROOT / "bench").glob("*.py")
               if p.stem != "__init__"}
    assert benches == set(SMOKE) | PARTS


@pytest.mark.neo4j
@pytest.mark.parametrize("module", sorted(SMOKE))
def test_bench_runs_at_a_tiny_size(module: str, tmp_path: Path,
                                   neo4j_server: Neo4jServer) -> None:
    args, says = SMOKE[module]
    # The benches that need Neo4j use the session's server instead of starting their own.
    env = {**os.environ, ENV_URI: neo4j_server.uri, ENV_USER: neo4j_server.auth[0],
           ENV_PASSWORD: neo4j_server.auth[1], "CMDB_BENCH_CACHE": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-m", module, *(a.format(tmp=tmp_path) for a in args)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert says in done.stdout + done.stderr
