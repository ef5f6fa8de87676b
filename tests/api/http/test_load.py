"""Load on both stores (loopback, bounded): 20 clients for 10 s mixing reads, updates and
relates. Zero 5xx, zero lost updates, every stale version refused. The full-size run
(50 clients, 60 s) is ``bench/bench_load.py``."""

from __future__ import annotations

import pytest

from tests.api.conftest import LiveServer
from tests.api.load import check, probe_stale, run_load, seed

CLIENTS, SECONDS = 20, 10


@pytest.mark.slow
def test_concurrent_clients_lose_nothing(live_store: LiveServer) -> None:
    servers, vms = seed(live_store.client)
    report = run_load(live_store.url, live_store.token, CLIENTS, SECONDS, servers, vms)
    summary = report.summary()
    print(f"load on {live_store.app.state.cmdb.store.kind}: {summary}")
    assert not [s for s in report.statuses if s >= 500], summary
    assert set(report.statuses) == {200}, summary
    assert report.requests["update"] >= 10, summary
    assert report.requests["relate"] >= 1, summary
    assert report.codes["VERSION_CONFLICT"] >= report.stale_refused
    assert check(live_store.client, report) == []
    assert probe_stale(live_store.client, servers[0]) == "VERSION_CONFLICT"
