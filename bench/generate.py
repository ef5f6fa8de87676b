"""Generate a synthetic CMDB with realistic fan-in and fan-out.

The shape of a real data centre estate, scaled by ``--cis``:

- sites > rooms > racks (LOCATED_IN); every rack has 2 PDUs (POWERED_BY, fed by a
  room UPS) and a top-of-rack switch (CONNECTS_TO one of two core switches per site):
  high fan-in at racks, PDUs and switches;
- ~20 servers per rack, grouped into clusters of 8 (MEMBER_OF, 6 of 8 needed);
- VMs HOSTED_ON a cluster, databases and middleware RUNS_ON VMs, applications
  RUNS_ON VMs and DEPENDS_ON a few shared databases (fan-in at popular databases),
  business services DEPENDS_ON applications;
- people and teams; CIs OWNED_BY / MANAGED_BY them.

About 3 relationships per CI. Deterministic for a given seed. Writes straight
through the store port in bulk transactions (the services' per-change checks are
not what this measures).

    python bench/generate.py --cis 100000 --db /tmp/cmdb-100k.sqlite3
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cmdb.model.records import CI, Relationship
from cmdb.store import store_from_url
from cmdb.store.base import Store, StoreTx

BATCH = 5000


@dataclass
class Estate:
    """What the generator made: CIs, relationships and a few named landmarks."""

    cis: list[CI] = field(default_factory=list)
    rels: list[Relationship] = field(default_factory=list)
    core_switches: list[str] = field(default_factory=list)
    shared_databases: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    def add(self, cls: str, name: str, state: str = "deployed", **attrs: object) -> CI:
        ci = CI(class_name=cls, name=name, state=state, attributes=dict(attrs))
        self.cis.append(ci)
        return ci

    def link(self, a: CI, rel_type: str, b: CI) -> None:
        self.rels.append(Relationship(type=rel_type, source_id=a.id, target_id=b.id))


def build_estate(total: int, seed: int = 7) -> Estate:
    """An estate of about ``total`` CIs (the exact count is in ``len(estate.cis)``)."""
    rnd = random.Random(seed)
    e = Estate()
    racks_needed = max(2, total // 120)
    teams = [e.add("Team", f"team-{i}") for i in range(max(4, total // 5000))]
    people = [e.add("Person", f"person-{i}") for i in range(max(10, total // 500))]
    for p in people:
        e.link(p, "MANAGED_BY", rnd.choice(teams))
    sites = [e.add("Site", f"site-{i}") for i in range(max(2, racks_needed // 200))]
    racks: list[tuple[CI, CI]] = []  # (rack, site)
    site_cores: dict[str, list[CI]] = {}
    for s in sites:
        cores = [e.add("Switch", f"{s.name}-core-{i}") for i in range(2)]
        e.core_switches += [c.id for c in cores]
        site_cores[s.id] = cores
    for r in range(racks_needed):
        site = sites[r % len(sites)]
        room_name = f"{site.name}-room-{r // 40}"
        room = next((c for c in e.cis[-200:] if c.name == room_name), None)
        if room is None:
            room = e.add("Room", room_name)
            e.link(room, "LOCATED_IN", site)
            ups = e.add("Ups", f"{room_name}-ups")
            e.link(ups, "LOCATED_IN", room)
        rack = e.add("Rack", f"rack-{r}")
        e.link(rack, "LOCATED_IN", room)
        racks.append((rack, site))
    hosts: list[CI] = []
    for rack, site in racks:
        pdus = [e.add("Pdu", f"{rack.name}-pdu-{x}") for x in "ab"]
        tor = e.add("Switch", f"{rack.name}-tor")
        e.link(tor, "CONNECTS_TO", rnd.choice(site_cores[site.id]))
        for pdu in pdus:
            e.link(pdu, "LOCATED_IN", rack)
        e.link(tor, "POWERED_BY", pdus[0])
        for n in range(20):
            host = e.add("Server", f"{rack.name}-srv-{n}")
            e.link(host, "LOCATED_IN", rack)
            e.link(host, "CONNECTS_TO", tor)
            e.link(host, "POWERED_BY", pdus[n % 2])
            e.link(host, "OWNED_BY", rnd.choice(teams))
            hosts.append(host)
    clusters: list[CI] = []
    for i in range(0, len(hosts), 8):
        cluster = e.add("Cluster", f"cluster-{i // 8}", min_members=6)
        for host in hosts[i:i + 8]:
            e.link(host, "MEMBER_OF", cluster)
        clusters.append(cluster)
    remaining = max(0, total - len(e.cis))
    vms: list[CI] = []
    for i in range(int(remaining * 0.55)):
        vm = e.add("VirtualMachine", f"vm-{i}")
        e.link(vm, "HOSTED_ON", rnd.choice(clusters))
        e.link(vm, "OWNED_BY", rnd.choice(teams))
        vms.append(vm)
    dbs: list[CI] = []
    for i in range(max(5, int(remaining * 0.08))):
        db = e.add("Database", f"db-{i}", engine=rnd.choice(["Oracle", "PostgreSQL", "MySQL"]))
        e.link(db, "RUNS_ON", rnd.choice(vms))
        dbs.append(db)
    shared = dbs[: max(3, len(dbs) // 50)]
    e.shared_databases = [d.id for d in shared]
    apps: list[CI] = []
    for i in range(max(5, int(remaining * 0.3))):
        app = e.add("Application", f"app-{i}")
        for vm in rnd.sample(vms, k=min(2, len(vms))):
            e.link(app, "RUNS_ON", vm)
        e.link(app, "DEPENDS_ON", rnd.choice(shared if rnd.random() < 0.3 else dbs))
        e.link(app, "OWNED_BY", rnd.choice(people))
        apps.append(app)
    while len(e.cis) < total:
        svc = e.add("BusinessService", f"service-{len(e.services)}", criticality="high")
        for app in rnd.sample(apps, k=min(3, len(apps))):
            e.link(svc, "DEPENDS_ON", app)
        e.services.append(svc.id)
    return e


def batches(items: list[CI] | list[Relationship]) -> Iterator[list[CI] | list[Relationship]]:
    for i in range(0, len(items), BATCH):
        yield items[i:i + BATCH]


async def load(store: Store, estate: Estate, progress: bool = True) -> float:
    """Write the estate in bulk transactions; returns the seconds it took."""
    started = time.perf_counter()
    for what, items in (("cis", estate.cis), ("relationships", estate.rels)):
        done = 0
        for chunk in batches(items):
            async def work(tx: StoreTx, chunk: list[CI] | list[Relationship] = chunk,
                           what: str = what) -> None:
                if what == "cis":
                    await tx.insert_cis(chunk)  # type: ignore[arg-type]  # chunk of CIs
                else:
                    await tx.insert_relationships(chunk)  # type: ignore[arg-type]  # of rels

            await store.write(work)
            done += len(chunk)
            if progress:
                print(f"\r{what}: {done}/{len(items)}", end="", file=sys.stderr)
        if progress:
            print(file=sys.stderr)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=10_000, help="about how many CIs")
    parser.add_argument("--db", type=Path, help="SQLite file to write (shortcut)")
    parser.add_argument("--store-url", help="any store URL (sqlite:///..., neo4j://...)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    url = args.store_url or f"sqlite:///{args.db or 'bench.sqlite3'}"

    async def run() -> None:
        estate = build_estate(args.cis, args.seed)
        store = store_from_url(url)
        await store.open()
        try:
            seconds = await load(store, estate)
        finally:
            await store.close()
        print(f"{len(estate.cis)} CIs, {len(estate.rels)} relationships in {seconds:.1f} s "
              f"({(len(estate.cis) + len(estate.rels)) / seconds:,.0f} records/s) into {url}")

    asyncio.run(run())


if __name__ == "__main__":
    main()
