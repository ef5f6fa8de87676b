"""Impact against an independent reference, on random topologies of a few hundred CIs.

Each seed draws an estate the way data centres are built: core and access switches,
access switches paired as 1-of-2 redundancy groups, hosts dual-homed to a pair or on a
single switch and powered by a PDU, k-of-n host clusters, VMs on clusters or hosts,
databases, applications that depend on each other (cycles included), 2-of-3
application groups, business services, and ownership links that carry nothing.

The reference below is written from the model's rules alone, not from the service:

- statuses: a fixpoint. A changed CI is DOWN; a CI is as bad as the worst CI it needs;
  a group with some members DOWN is DOWN when fewer than ``min_members`` are up, else
  DEGRADED (a DEGRADED member is still up).
- depths: a breadth-first search from the changed CIs through impacted CIs only, where a
  dependency step carries a status at least as bad as the one it explains and a group
  is entered from a member only when that member is DOWN.

Every impacted CI's status and depth must agree, every returned chain must be a real
chain by those rules, and each service's single points of failure must be exactly the
CIs whose loss alone takes it DOWN in the reference.
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from cmdb.model.records import Actor
from cmdb.services import Cmdb
from cmdb.services.impact.graph import PathStep

UP, DEGRADED, DOWN = 0, 1, 2
NAMES = {UP: "UP", DEGRADED: "DEGRADED", DOWN: "DOWN"}
SEEDS = [11, 29, 47, 83]
MAX_DEPTH = 25


@dataclass
class Topology:
    """CIs by name (class, min_members for groups) and relationships (from, type, to)."""

    cis: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, name: str, cls: str, k: int | None = None) -> str:
        self.cis[name] = (cls, k)
        return name

    def rel(self, a: str, t: str, b: str) -> None:
        if a != b and (a, t, b) not in self.edges:
            self.edges.append((a, t, b))

    def of(self, cls: str) -> list[str]:
        return [n for n, (c, _) in self.cis.items() if c == cls]


def draw(seed: int) -> Topology:
    """A random estate of a little over 200 CIs."""
    rng = random.Random(seed)
    t = Topology()
    pdus = [t.add(f"pdu{i}", "Pdu") for i in range(3)]
    cores = [t.add(f"core{i}", "Switch") for i in range(2)]
    access = [t.add(f"acc{i}", "Switch") for i in range(10)]
    for a in access:
        t.rel(a, "CONNECTS_TO", rng.choice(cores))
        if rng.random() < 0.5:
            t.rel(a, "POWERED_BY", rng.choice(pdus))
    pairs = []
    for i in range(4):
        pair = t.add(f"pair{i}", "Cluster", 1)
        for a in access[2 * i:2 * i + 2]:
            t.rel(a, "MEMBER_OF", pair)
        pairs.append(pair)
    hosts = [t.add(f"host{i}", "Server") for i in range(48)]
    for h in hosts:
        if rng.random() < 0.6:
            t.rel(h, "DEPENDS_ON", rng.choice(pairs))  # dual-homed to a switch pair
        else:
            t.rel(h, "CONNECTS_TO", rng.choice(access))
        t.rel(h, "POWERED_BY", rng.choice(pdus))
    pool = hosts[:]
    rng.shuffle(pool)
    clusters = []
    for i in range(7):
        n = rng.randint(2, 5)
        members, pool = pool[:n], pool[n:]
        cluster = t.add(f"cl{i}", "Cluster", rng.randint(1, n))
        for h in members:
            t.rel(h, "MEMBER_OF", cluster)
        clusters.append(cluster)
    vms = [t.add(f"vm{i}", "VirtualMachine") for i in range(50)]
    for v in vms:
        t.rel(v, "HOSTED_ON", rng.choice(clusters if rng.random() < 0.7 else pool or hosts))
    dbs = [t.add(f"db{i}", "Database") for i in range(14)]
    for d in dbs:
        t.rel(d, "HOSTED_ON", rng.choice(vms))
    apps = [t.add(f"app{i}", "Application") for i in range(42)]
    for i, a in enumerate(apps):
        t.rel(a, "RUNS_ON", rng.choice(vms))
        for _ in range(rng.randint(0, 2)):
            t.rel(a, "DEPENDS_ON", rng.choice(dbs))
        if i and rng.random() < 0.5:
            t.rel(a, "DEPENDS_ON", rng.choice(apps[:i]))
    for _ in range(6):  # cycles between applications
        a, b = rng.sample(apps, 2)
        t.rel(a, "DEPENDS_ON", b)
        t.rel(b, "DEPENDS_ON", a)
    groups = []
    for i in range(3):
        group = t.add(f"appgroup{i}", "Cluster", 2)
        for a in rng.sample(apps, 3):
            t.rel(a, "MEMBER_OF", group)
        groups.append(group)
    services = [t.add(f"svc{i}", "BusinessService") for i in range(8)]
    for s in services:
        for target in rng.sample(apps + groups, rng.randint(1, 3)):
            t.rel(s, "DEPENDS_ON", target)
    people = [t.add(f"person{i}", "Person") for i in range(10)]
    teams = [t.add(f"team{i}", "Team") for i in range(3)]
    for name in rng.sample(sorted(t.cis), 60):
        if t.cis[name][0] not in ("Person", "Team"):
            t.rel(name, rng.choice(["OWNED_BY", "MANAGED_BY"]), rng.choice(people + teams))
    assert len(t.cis) >= 200
    return t


class Reference:
    """The model's semantics, written independently of the service."""

    CARRY: ClassVar[set[str]] = {"DEPENDS_ON", "RUNS_ON", "HOSTED_ON", "CONNECTS_TO",
                                 "POWERED_BY"}

    def __init__(self, t: Topology) -> None:
        self.t = t
        self.needs: dict[str, set[str]] = defaultdict(set)
        self.members: dict[str, set[str]] = defaultdict(set)
        for a, typ, b in t.edges:
            if typ in self.CARRY:
                self.needs[a].add(b)
            elif typ == "MEMBER_OF":
                self.members[b].add(a)

    def statuses(self, changed: set[str]) -> dict[str, int]:
        status = {n: DOWN if n in changed else UP for n in self.t.cis}
        moved = True
        while moved:
            moved = False
            for n in self.t.cis:
                if n in changed:
                    continue
                worst = max((status[d] for d in self.needs[n]), default=UP)
                members = self.members.get(n)
                if members:
                    down = sum(1 for m in members if status[m] == DOWN)
                    k = self.t.cis[n][1] or 1
                    if down:
                        worst = max(worst, DOWN if len(members) - down < k else DEGRADED)
                if worst > status[n]:
                    status[n] = worst
                    moved = True
        return status

    @staticmethod
    def carries(src: str, dst: str, typ: str, status: dict[str, int]) -> bool:
        """Whether the failure of ``src`` explains ``dst``'s status along this step."""
        if status[dst] == UP or status[src] == UP:
            return False
        if typ == "MEMBER_OF":
            return status[src] == DOWN
        return status[src] >= status[dst]

    def depths(self, changed: set[str], status: dict[str, int]) -> dict[str, int]:
        flow: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for a, typ, b in self.t.edges:
            if typ in self.CARRY:
                flow[b].append((a, typ))
            elif typ == "MEMBER_OF":
                flow[a].append((b, typ))
        depth = dict.fromkeys(changed, 0)
        queue = deque(changed)
        while queue:
            n = queue.popleft()
            for m, typ in flow[n]:
                if m not in depth and self.carries(n, m, typ, status):
                    depth[m] = depth[n] + 1
                    queue.append(m)
        return depth

    def impact(self, changed: set[str]) -> dict[str, tuple[str, int]]:
        status = self.statuses(changed)
        depth = self.depths(changed, status)
        assert all(n in depth for n, s in status.items() if s != UP), "unexplained status"
        return {n: (NAMES[s], depth[n]) for n, s in status.items()
                if s != UP and n not in changed}

    def spofs(self, service: str) -> dict[str, int]:
        out = {}
        for n in self.t.cis:
            if n == service:
                continue
            status = self.statuses({n})
            if status[service] == DOWN:
                out[n] = self.depths({n}, status)[service]
        return out


async def build(cmdb: Cmdb, t: Topology) -> tuple[dict[str, str], dict[str, tuple[str, str, str]]]:
    """The topology in the store: CI ids by name, relationships by id as (from, type, to)."""
    actor = Actor(name="property-test")
    ids: dict[str, str] = {}
    for name, (cls, k) in t.cis.items():
        attrs = {"min_members": k} if k is not None else {}
        ci = await cmdb.cis.create(actor, {"class_name": cls, "name": name, "attributes": attrs})
        ids[name] = ci.id
    rels: dict[str, tuple[str, str, str]] = {}
    for a, typ, b in t.edges:
        rel = await cmdb.cis.relate(actor, ids[a], typ, ids[b])
        rels[rel.id] = (a, typ, b)
    return ids, rels


def changes(t: Topology, rng: random.Random) -> list[set[str]]:
    """Single and multiple changed CIs, group members among them."""
    members = [a for a, typ, _ in t.edges if typ == "MEMBER_OF"]
    picks = [{c} for c in t.of("Switch")[:2]] + [{c} for c in t.of("Pdu")]
    picks += [{rng.choice(members)} for _ in range(4)]
    picks += [{rng.choice(sorted(t.cis))} for _ in range(3)]
    pair_members = [a for a, typ, b in t.edges if typ == "MEMBER_OF" and b == "pair0"]
    picks.append(set(pair_members))  # both switches of a pair
    picks += [set(rng.sample(members, 3)), set(rng.sample(sorted(t.cis), 4))]
    return picks


def check_chain(path: list[PathStep], name_of: dict[str, str],
                rels: dict[str, tuple[str, str, str]], changed: set[str], target: str,
                status: dict[str, int]) -> None:
    """A chain from a changed CI to ``target`` along which the failure really travels."""
    at = None
    for step in path:
        src, typ, dst = rels[step.relationship_id]
        assert (name_of[step.source_id], step.type, name_of[step.target_id]) == (src, typ, dst)
        came, went = (src, dst) if typ == "MEMBER_OF" else (dst, src)
        if at is None:
            assert came in changed, f"the chain to {target} starts at {came}, not a changed CI"
        else:
            assert came == at, f"the chain to {target} is broken at {at} / {came}"
        assert status[came] != UP, f"the chain to {target} passes {came}, which is up"
        assert status[went] != UP, f"the chain to {target} passes {went}, which is up"
        assert Reference.carries(came, went, typ, status), (
            f"{came} ({NAMES[status[came]]}) does not make {went} {NAMES[status[went]]}")
        at = went
    assert at == target


@pytest.mark.parametrize("seed", SEEDS)
async def test_impact_agrees_with_the_reference(cmdb: Cmdb, seed: int) -> None:
    t = draw(seed)
    ref = Reference(t)
    ids, rels = await build(cmdb, t)
    name_of = {v: k for k, v in ids.items()}
    rng = random.Random(seed * 7)
    checked = 0
    for changed in changes(t, rng):
        expected = ref.impact(changed)
        assert max((d for _, d in expected.values()), default=0) <= MAX_DEPTH
        report = await cmdb.impact.impact([ids[n] for n in sorted(changed)],
                                          max_depth=MAX_DEPTH)
        got = {name_of[i.ci.id]: (i.status.name, i.depth) for i in report.impacted}
        assert got == expected, (sorted(changed), {
            n: (got.get(n), expected.get(n)) for n in set(got) | set(expected)
            if got.get(n) != expected.get(n)})
        assert not report.truncated
        status = ref.statuses(changed)
        for item in report.impacted:
            name = name_of[item.ci.id]
            check_chain(item.path, name_of, rels, changed, name, status)
            assert len(item.path) == item.depth
        checked += len(report.impacted)
    assert checked > 100, "the topologies should impact a fair share of the estate"


@pytest.mark.parametrize("seed", SEEDS[:2])
async def test_single_points_of_failure_agree_with_the_reference(cmdb: Cmdb, seed: int) -> None:
    t = draw(seed)
    ref = Reference(t)
    ids, rels = await build(cmdb, t)
    name_of = {v: k for k, v in ids.items()}
    found = 0
    for service in t.of("BusinessService"):
        expected = ref.spofs(service)
        spofs = await cmdb.impact.single_points_of_failure(ids[service])
        got = {name_of[s.ci.id]: s.depth for s in spofs}
        assert got == expected, service
        for s in spofs:
            name = name_of[s.ci.id]
            # listed from the service down: read backwards, the failure's own chain
            backwards = [*reversed(s.path)]
            check_chain(backwards, name_of, rels, {name}, service, ref.statuses({name}))
        found += len(got)
    assert found > 10


async def test_dependencies_are_what_can_reach_the_ci(cmdb: Cmdb) -> None:
    t = draw(SEEDS[0])
    ref = Reference(t)
    ids, _ = await build(cmdb, t)
    name_of = {v: k for k, v in ids.items()}
    for service in t.of("BusinessService")[:4]:
        expected = {}
        for n in t.cis:
            if n == service:
                continue
            depth = ref.impact({n}).get(service)
            if depth is not None:
                expected[n] = depth[1]
        deps = await cmdb.impact.dependencies([ids[service]], max_depth=MAX_DEPTH)
        assert {name_of[d.ci.id]: d.depth for d in deps} == expected, service
