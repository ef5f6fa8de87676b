"""Neo4j going away under load: coded errors in bounded time, then recovery without restart."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from pydantic import SecretStr

from cmdb.settings import Settings
from tests.api.conftest import LiveServer, run_server
from tests.support.neo4j_server import Neo4jServer, wipe

QUERY = {"query": "{ cis(first: 5) { totalCount edges { node { name } } } }"}


@pytest.fixture
def live_neo4j(neo4j_server: Neo4jServer) -> Iterator[LiveServer]:
    wipe(neo4j_server.uri, neo4j_server.auth)
    settings = Settings(store_url=neo4j_server.uri, store_user=neo4j_server.auth[0],
                        store_password=SecretStr(neo4j_server.auth[1]), store_timeout=2.0)
    yield from run_server(settings)


@pytest.mark.neo4j
def test_outage_gives_store_unavailable_then_recovers(
    live_neo4j: LiveServer, neo4j_server: Neo4jServer
) -> None:
    live_neo4j.ok('mutation { createCI(input: {class: "Room", name: "before"}) { id } }')
    outcomes: Counter[str] = Counter()
    slowest = 0.0
    stop = threading.Event()

    def load() -> None:
        nonlocal slowest
        with httpx.Client(base_url=live_neo4j.url, timeout=30,
                          headers=live_neo4j.auth_headers) as client:
            deadline = time.monotonic() + 120
            while not stop.is_set() and time.monotonic() < deadline:
                t = time.monotonic()
                body = client.post("/graphql", json=QUERY).json()
                slowest = max(slowest, time.monotonic() - t)
                codes = {e["extensions"]["code"] for e in body.get("errors", [])}
                outcomes["ok" if not codes else "/".join(sorted(codes))] += 1
                time.sleep(0.05)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        time.sleep(1)
        neo4j_server.stop()
        down_deadline = time.monotonic() + 30
        while outcomes["STORE_UNAVAILABLE"] < 3 and time.monotonic() < down_deadline:
            time.sleep(0.2)
        ready = live_neo4j.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["code"] == "STORE_UNAVAILABLE"
        ok_while_down = outcomes["ok"]
        neo4j_server.start()
        up_deadline = time.monotonic() + 60
        while outcomes["ok"] <= ok_while_down + 3 and time.monotonic() < up_deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join()
    assert outcomes["STORE_UNAVAILABLE"] >= 3, outcomes
    assert outcomes["ok"] > ok_while_down + 3, outcomes
    assert set(outcomes) <= {"ok", "STORE_UNAVAILABLE"}, outcomes
    assert slowest < 15, f"a request hung for {slowest:.1f} s"
    assert live_neo4j.client.get("/readyz").status_code == 200
    data = live_neo4j.ok("{ cis { totalCount } }")
    assert data["cis"]["totalCount"] == 1
