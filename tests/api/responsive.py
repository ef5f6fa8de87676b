"""Probing ``/healthz`` while something else runs: did the server stay responsive?

Every hostile-request test sends its request inside ``probing(server)`` and then
checks the probe: the server kept answering ``/healthz`` during the request, each
time well within ``HEALTHY`` seconds, so the refusal (or the slow work) did not
block the event loop for anybody else.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

HEALTHY = 0.5
"""The slowest ``/healthz`` answer a probe accepts, in seconds. An event loop blocked by
one request shows up as seconds here; a busy 2-core machine stays far below this."""


@dataclass
class Probe:
    """``/healthz`` latencies (seconds) measured while the probed block ran."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=float("inf"))

    def assert_responsive(self, bound: float = HEALTHY, at_least: int = 1) -> None:
        assert not self.failures, f"/healthz failed while the request ran: {self.failures[:3]}"
        assert len(self.latencies) >= at_least, (
            f"only {len(self.latencies)} /healthz probes answered (wanted {at_least})")
        assert self.worst < bound, (
            f"/healthz took {self.worst * 1000:.0f} ms while the request ran "
            f"(bound {bound * 1000:.0f} ms): the server was blocked")


@contextmanager
def probing(url: str, every: float = 0.02, timeout: float = 30.0) -> Iterator[Probe]:
    """Probe ``{url}/healthz`` from another thread for as long as the block runs.

    One probe is always sent after the block, so even an instant request proves the
    server still answers afterwards.
    """
    probe = Probe()
    stop = threading.Event()

    def once(client: httpx.Client) -> None:
        started = time.perf_counter()
        try:
            r = client.get("/healthz")
        except httpx.HTTPError as exc:
            probe.failures.append(repr(exc))
            return
        if r.status_code != 200:
            probe.failures.append(f"{r.status_code} {r.text[:100]}")
            return
        probe.latencies.append(time.perf_counter() - started)

    def run() -> None:
        with httpx.Client(base_url=url, timeout=timeout) as client:
            while not stop.is_set():
                once(client)
                stop.wait(every)
            once(client)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield probe
    finally:
        stop.set()
        thread.join(timeout + 5)
