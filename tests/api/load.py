"""A load run against a live CMDB: concurrent clients mixing reads, updates and relates.

Used by ``tests/api/http/test_load.py`` (short, in CI) and ``bench/bench_load.py`` (the
full run). Each client is a thread with its own HTTP connection. Updates send the
version just read; some deliberately send a stale one, which must be refused with
VERSION_CONFLICT. Afterwards :func:`check` proves no accepted update was lost: each
CI's accepted versions are exactly 2..its version, each is in its history once, and
the CI holds the last accepted value.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

READ = """query($id: ID!) { ci(id: $id) { id version attributes
  outgoing { edges { node { type to { name } } } } } }"""
LIST = "{ cis(first: 20, filter: {class: \"Server\"}) { totalCount edges { node { name } } } }"
UPDATE = """mutation($id: ID!, $v: Int!, $note: String!) {
  updateCI(id: $id, expectedVersion: $v, input: {attributes: {note: $note}}) { version } }"""
RELATE = """mutation($from: ID!, $to: ID!) {
  relate(from: $from, type: "HOSTED_ON", to: $to) { id } }"""
HISTORY = """query($id: ID!) { ci(id: $id) { version attributes
  history(first: 500) { nodes { action version changes { field after } } } } }"""
EXPECTED_CODES = {"VERSION_CONFLICT", "DUPLICATE"}


@dataclass
class LoadReport:
    """What a load run did and saw."""

    seconds: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    accepted: dict[str, list[tuple[int, str]]] = field(
        default_factory=lambda: defaultdict(list))
    stale_refused: int = 0
    stale_accepted: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)
        return {
            "requests": self.total, "per_second": round(self.total / self.seconds, 1),
            "mix": dict(self.requests), "statuses": dict(self.statuses),
            "codes": dict(self.codes), "stale_refused": self.stale_refused,
            "accepted_updates": sum(len(v) for v in self.accepted.values()),
            "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
            "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1) if lat else None,
        }


def seed(client: httpx.Client, servers: int = 40, vms: int = 80) -> tuple[list[str], list[str]]:
    """Servers to update and VMs to relate to them; returns (server ids, vm ids)."""
    def create(cls: str, name: str) -> str:
        r = client.post("/graphql", json={"query": "mutation($i: CreateCIInput!) { createCI("
                                                   "input: $i) { id } }",
                                          "variables": {"i": {"class": cls, "name": name}}})
        return str(r.json()["data"]["createCI"]["id"])

    return ([create("Server", f"load-srv-{i:02d}") for i in range(servers)],
            [create("VirtualMachine", f"load-vm-{i:03d}") for i in range(vms)])


def _client(url: str, token: str | None, report: LoadReport, number: int, deadline: float,
            servers: list[str], vms: list[str]) -> None:
    rng = random.Random(number)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        def gql(kind: str, query: str, variables: dict[str, Any] | None = None) -> Any:
            start = time.perf_counter()
            r = client.post("/graphql", json={"query": query, "variables": variables})
            elapsed = time.perf_counter() - start
            body = r.json() if r.headers.get("content-type", "").startswith(
                "application/json") else {}
            codes = [e.get("extensions", {}).get("code", "?") for e in body.get("errors", [])]
            with report.lock:
                report.requests[kind] += 1
                report.statuses[r.status_code] += 1
                report.latencies.append(elapsed)
                for c in codes:
                    report.codes[c] += 1
                    if c not in EXPECTED_CODES:
                        report.unexpected.append(f"{kind}: {c}: {body['errors'][0]}")
                if r.status_code >= 500:
                    report.unexpected.append(f"{kind}: HTTP {r.status_code}: {r.text[:200]}")
            return body, codes

        n = 0
        while time.monotonic() < deadline:
            n += 1
            roll = rng.random()
            ci = rng.choice(servers)
            if roll < 0.45:
                if rng.random() < 0.7:
                    gql("read", READ, {"id": ci})
                else:
                    gql("read", LIST)
                continue
            if roll < 0.85:
                body, _ = gql("read", READ, {"id": ci})
                version = body["data"]["ci"]["version"]
                stale = version > 1 and rng.random() < 0.1
                note = f"c{number}-{n}"
                sent = version - 1 if stale else version
                body, codes = gql("update", UPDATE, {"id": ci, "v": sent, "note": note})
                with report.lock:
                    if body.get("data") and body["data"].get("updateCI"):
                        new = body["data"]["updateCI"]["version"]
                        report.accepted[ci].append((new, note))
                        report.stale_accepted += stale
                    elif stale and codes == ["VERSION_CONFLICT"]:
                        report.stale_refused += 1
                continue
            gql("relate", RELATE, {"from": rng.choice(vms), "to": ci})


def run_load(url: str, token: str | None, clients: int, seconds: float,
             servers: list[str], vms: list[str]) -> LoadReport:
    """``clients`` threads for ``seconds`` against ``url``."""
    report = LoadReport()
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=_client, args=(url, token, report, i, deadline,
                                                      servers, vms)) for i in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    report.seconds = time.monotonic() - start
    return report


def check(client: httpx.Client, report: LoadReport) -> list[str]:
    """Lost or duplicated updates, as messages (an empty list means none)."""
    problems = list(report.unexpected)
    if report.stale_accepted:
        problems.append(f"{report.stale_accepted} stale updates were accepted")
    for ci, accepted in report.accepted.items():
        r = client.post("/graphql", json={"query": HISTORY, "variables": {"id": ci}})
        data = r.json()["data"]["ci"]
        versions = sorted(v for v, _ in accepted)
        if versions != list(range(2, data["version"] + 1)):
            problems.append(f"{ci}: accepted versions {versions[:5]}... do not run 2.."
                            f"{data['version']}")
        updated = {h["version"]: h for h in data["history"]["nodes"] if h["action"] == "updated"}
        for version, note in accepted:
            entry = updated.get(version)
            afters = [c["after"] for c in entry["changes"]] if entry else []
            if not any(note == a or (isinstance(a, dict) and note in a.values())
                       or (isinstance(a, str) and note in a) for a in afters):
                problems.append(f"{ci}: update to v{version} ({note}) is not in history")
        last_note = max(accepted)[1]
        if data["attributes"].get("note") != last_note:
            problems.append(f"{ci}: holds {data['attributes'].get('notes')!r}, "
                            f"last accepted {last_note!r}")
    return problems


def probe_stale(client: httpx.Client, ci: str) -> str:
    """Update ``ci`` twice from the same read: the second must be refused; returns its code."""
    body = client.post("/graphql", json={"query": READ, "variables": {"id": ci}}).json()
    version = body["data"]["ci"]["version"]
    for note in ("probe-1", "probe-2"):
        r = client.post("/graphql", json={"query": UPDATE, "variables": {
            "id": ci, "v": version, "note": note}}).json()
    errors = r.get("errors") or [{}]
    return str(errors[0].get("extensions", {}).get("code"))
