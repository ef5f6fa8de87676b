"""Hostile requests, one test per class of attack or bad input.

Each test sends what an attacker (or a broken client) would, through a real server with
authentication on, and asserts both the refusal (status, code, a message naming what is
wrong) and that the server stayed responsive for everybody else while it was refused:
``/healthz`` is probed from another thread for the whole time (``tests/api/responsive``).
"""

from __future__ import annotations

import re
import secrets

import httpx

from tests.api.conftest import LiveServer
from tests.api.responsive import probing


def series(text: str) -> set[str]:
    """The metric series (name and labels) in a /metrics page."""
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if not line.startswith("#")}


def test_methods_made_up_methods_and_paths_do_not_grow_metrics(live: LiveServer) -> None:
    """Unauthenticated requests with made-up methods and paths: each is refused, and
    /metrics counts them all under ``other`` (a closed label set), so it does not grow."""
    anonymous = httpx.Client(base_url=live.url, timeout=10)

    def attack(count: int) -> None:
        for _ in range(count):
            method = "X" + secrets.token_hex(6).upper()
            path = f"/{secrets.token_hex(4)}/{secrets.token_hex(4)}"
            r = anonymous.request(method, path)
            assert r.status_code in (401, 404, 405), (method, path, r.status_code)
            r = anonymous.request(method, "/graphql")
            assert r.status_code in (401, 405)

    with probing(live.url) as probe:
        attack(50)
        live.client.get("/metrics")  # the scrape itself is a series too
        before = series(live.client.get("/metrics").text)
        attack(150)
        after = series(live.client.get("/metrics").text)
    probe.assert_responsive()
    assert after == before
    labels = set(re.findall(r'method="([^"]*)"', " ".join(after)))
    assert labels <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in labels
    routes = set(re.findall(r'route="([^"]*)"', " ".join(after)))
    assert routes <= {"other", "/graphql", "/metrics", "/healthz"}
    assert set(re.findall(r'status="([^"]*)"', " ".join(after))) <= {"2xx", "4xx"}
    anonymous.close()
