"""The full-size load run: 50 clients for 60 s against a live server on each store.

    .venv/bin/python -m bench.bench_load                       # SQLite, 50 clients, 60 s
    .venv/bin/python -m bench.bench_load --store neo4j         # a Neo4j the project starts
    .venv/bin/python -m bench.bench_load --clients 20 --seconds 10

The same harness as ``tests/api/http/test_load.py`` (``tests/api/load.py``): reads, updates
(with the version read, some deliberately stale) and relates; then checks that no 5xx
was answered and no accepted update was lost. Prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from pydantic import SecretStr

from cmdb.settings import Settings
from tests.api.conftest import run_server
from tests.api.load import check, probe_stale, run_load, seed
from tests.support.neo4j_server import Neo4jServer, wipe


def bench(settings: Settings, clients: int, seconds: float) -> dict[str, object]:
    for live in run_server(settings):
        servers, vms = seed(live.client)
        report = run_load(live.url, live.token, clients, seconds, servers, vms)
        problems = check(live.client, report)
        stale = probe_stale(live.client, servers[0])
        summary = report.summary()
        summary.update(store=live.app.state.cmdb.store.kind, clients=clients,
                       seconds=round(report.seconds, 1), lost_or_wrong=problems[:5],
                       five_xx=sum(n for s, n in report.statuses.items() if s >= 500),
                       stale_probe=stale)
        return summary
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "neo4j", "both"], default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(store_url=f"sqlite:///{Path(tmp) / 'load.sqlite3'}")
            print(json.dumps(bench(settings, args.clients, args.seconds), ensure_ascii=False))
    if args.store in ("neo4j", "both"):
        server = Neo4jServer()
        server.start()
        try:
            wipe(server.uri, server.auth)
            settings = Settings(store_url=server.uri, store_user=server.auth[0],
                                store_password=SecretStr(server.auth[1]))
            print(json.dumps(bench(settings, args.clients, args.seconds), ensure_ascii=False))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
