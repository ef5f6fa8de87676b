"""Single points of failure by monotone search agree with propagating each loss in full."""

from __future__ import annotations

import random

import pytest

from cmdb.services.impact.graph import Status, Subgraph
from cmdb.services.impact.spof import single_points


def random_subgraph(rnd: random.Random, size: int) -> Subgraph:
    """Dependencies (cycles included) and k-of-n groups among ``size`` CIs ``c0..``."""
    sub = Subgraph()
    names = [f"c{i}" for i in range(size)]
    for a in names:
        for b in rnd.sample(names, k=rnd.randint(0, 3)):
            if a != b:
                sub.needs[a].add(b)
                sub.dependents[b].add(a)
    for group in rnd.sample(names, k=size // 6):
        members = {m for m in rnd.sample(names, k=rnd.randint(2, 5)) if m != group}
        if not members:
            continue
        sub.members[group] = members
        for m in members:
            sub.groups_of[m].add(group)
        sub.min_members[group] = rnd.randint(1, len(members))
    return sub


@pytest.mark.parametrize("seed", range(8))
def test_single_points_match_full_propagation(seed: int) -> None:
    rnd = random.Random(seed)
    sub = random_subgraph(rnd, 80)
    names = [f"c{i}" for i in range(80)]
    for target in rnd.sample(names, k=4):
        candidates = [n for n in names if n != target]
        rnd.shuffle(candidates)
        expected = {n for n in candidates if sub.propagate([n]).get(target) is Status.DOWN}
        assert single_points(sub, target, candidates) == expected


def test_redundancy_absorbs_one_loss_but_not_a_shared_dependency() -> None:
    """[SVC] -DEPENDS_ON-> [CL2], [H1..H3] -MEMBER_OF-> [CL2], [H1] [H2] -POWERED_BY-> [PDU]"""
    sub = Subgraph()
    for a, b in (("SVC", "CL2"), ("H1", "PDU"), ("H2", "PDU")):
        sub.needs[a].add(b)
        sub.dependents[b].add(a)
    sub.members["CL2"] = {"H1", "H2", "H3"}
    for h in ("H1", "H2", "H3"):
        sub.groups_of[h].add("CL2")
    sub.min_members["CL2"] = 2
    assert single_points(sub, "SVC", ["CL2", "H1", "H2", "H3", "PDU"]) == {"CL2", "PDU"}
