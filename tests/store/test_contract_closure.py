"""The store contract, continued: the bounded traversal (chains, diamonds, cycles, the
depth bound, the types followed). Every adapter passes these same tests."""

from __future__ import annotations

from typing import Any

from cmdb.model.records import CI, now
from cmdb.store.base import Store, StoreTx
from tests.store.test_contract import add, ci, link

ALL_TYPES = ["DEPENDS_ON", "RUNS_ON", "HOSTED_ON", "CONNECTS_TO", "LOCATED_IN"]


async def graph(store: Store, spec: str) -> dict[str, CI]:
    """Build a topology from lines like ``A -RUNS_ON-> B``; returns CIs by name."""
    names: dict[str, CI] = {}
    edges: list[tuple[str, str, str]] = []
    for line in spec.strip().splitlines():
        left, rest = line.split(" -", 1)
        rel_type, right = rest.split("-> ")
        edges.append((left.strip(), rel_type.strip(), right.strip()))
        for n in (left.strip(), right.strip()):
            names.setdefault(n, ci(n))
    await add(store, *names.values())
    for a, t, b in edges:
        await link(store, names[a], t, names[b])
    return names


def reached(names: dict[str, CI], rows: Any) -> set[tuple[str, int]]:
    by_id = {c.id: n for n, c in names.items()}
    return {(by_id[r.ci_id], r.depth) for r in rows}


async def test_closure_chain_both_directions(store: Store) -> None:
    """[APP] -RUNS_ON-> [VM] -HOSTED_ON-> [HOST]"""
    g = await graph(store, "APP -RUNS_ON-> VM\nVM -HOSTED_ON-> HOST")
    up = await store.closure([g["HOST"].id], "in", ALL_TYPES, 10)
    assert reached(g, up.rows) == {("HOST", 0), ("VM", 1), ("APP", 2)}
    assert not up.truncated
    down = await store.closure([g["APP"].id], "out", ALL_TYPES, 10)
    assert reached(g, down.rows) == {("APP", 0), ("VM", 1), ("HOST", 2)}
    app = next(r for r in up.rows if r.ci_id == g["APP"].id)
    assert (app.parent_id, app.via_type) == (g["VM"].id, "RUNS_ON")


async def test_closure_diamond_counts_each_ci_once_at_its_shortest_depth(store: Store) -> None:
    """[SVC] -DEPENDS_ON-> [A], [SVC] -DEPENDS_ON-> [B] -DEPENDS_ON-> [C],
    [A] -DEPENDS_ON-> [D], [C] -DEPENDS_ON-> [D]"""
    g = await graph(store, "SVC -DEPENDS_ON-> A\nSVC -DEPENDS_ON-> B\nB -DEPENDS_ON-> C\n"
                           "A -DEPENDS_ON-> D\nC -DEPENDS_ON-> D")
    res = await store.closure([g["D"].id], "in", ALL_TYPES, 10)
    assert reached(g, res.rows) == {("D", 0), ("A", 1), ("C", 1), ("B", 2), ("SVC", 2)}
    svc = next(r for r in res.rows if r.ci_id == g["SVC"].id)
    assert svc.parent_id == g["A"].id


async def test_closure_cycle_terminates(store: Store) -> None:
    """[A] -DEPENDS_ON-> [B] -DEPENDS_ON-> [C] -DEPENDS_ON-> [A]"""
    g = await graph(store, "A -DEPENDS_ON-> B\nB -DEPENDS_ON-> C\nC -DEPENDS_ON-> A")
    res = await store.closure([g["A"].id], "out", ALL_TYPES, 50)
    assert reached(g, res.rows) == {("A", 0), ("B", 1), ("C", 2)}
    assert not res.truncated


async def test_closure_depth_bound_and_truncation(store: Store) -> None:
    """[A] -DEPENDS_ON-> [B] -DEPENDS_ON-> [C] -DEPENDS_ON-> [D]"""
    g = await graph(store, "A -DEPENDS_ON-> B\nB -DEPENDS_ON-> C\nC -DEPENDS_ON-> D")
    res = await store.closure([g["A"].id], "out", ALL_TYPES, 2)
    assert reached(g, res.rows) == {("A", 0), ("B", 1), ("C", 2)}
    assert res.truncated
    exact = await store.closure([g["A"].id], "out", ALL_TYPES, 3)
    assert not exact.truncated


async def test_closure_follows_only_given_types_and_active_links(store: Store) -> None:
    """[APP] -RUNS_ON-> [VM] -HOSTED_ON-> [HOST], [APP] -OWNED_BY-> [ANN]"""
    g = await graph(store, "APP -RUNS_ON-> VM\nVM -HOSTED_ON-> HOST\nAPP -DEPENDS_ON-> DB")
    res = await store.closure([g["APP"].id], "out", ["RUNS_ON"], 10)
    assert reached(g, res.rows) == {("APP", 0), ("VM", 1)}
    rel = (await store.relationships_of([g["APP"].id], "out", ["DEPENDS_ON"]))[g["APP"].id][0]

    async def end(tx: StoreTx) -> None:
        await tx.update_relationship(rel.model_copy(update={"ended_at": now(), "version": 2}), 1)

    await store.write(end)
    res = await store.closure([g["APP"].id], "out", ALL_TYPES, 10)
    assert reached(g, res.rows) == {("APP", 0), ("VM", 1), ("HOST", 2)}


async def test_closure_follows_reverse_types_the_other_way(store: Store) -> None:
    """[APP] -RUNS_ON-> [CLUSTER], [H1] -MEMBER_OF-> [CLUSTER], [H2] -MEMBER_OF-> [CLUSTER],
    [H1] -POWERED_BY-> [PDU]"""
    g = await graph(store, "APP -RUNS_ON-> CLUSTER\nH1 -MEMBER_OF-> CLUSTER\n"
                           "H2 -MEMBER_OF-> CLUSTER\nH1 -POWERED_BY-> PDU")
    res = await store.closure([g["PDU"].id], "in", ["RUNS_ON", "POWERED_BY"], 10,
                              reverse_types=["MEMBER_OF"])
    assert reached(g, res.rows) == {("PDU", 0), ("H1", 1), ("CLUSTER", 2), ("APP", 3)}
    cluster = next(r for r in res.rows if r.ci_id == g["CLUSTER"].id)
    assert (cluster.parent_id, cluster.via_type) == (g["H1"].id, "MEMBER_OF")
    cut = await store.closure([g["PDU"].id], "in", ["RUNS_ON", "POWERED_BY"], 2,
                              reverse_types=["MEMBER_OF"])
    assert cut.truncated
    up = await store.closure([g["APP"].id], "out", ["RUNS_ON", "POWERED_BY"], 10,
                             reverse_types=["MEMBER_OF"])
    assert reached(g, up.rows) == {("APP", 0), ("CLUSTER", 1), ("H1", 2), ("H2", 2),
                                   ("PDU", 3)}


async def test_closure_from_several_starts(store: Store) -> None:
    """[X] -DEPENDS_ON-> [A], [Y] -DEPENDS_ON-> [B], [X] -DEPENDS_ON-> [B]"""
    g = await graph(store, "X -DEPENDS_ON-> A\nY -DEPENDS_ON-> B\nX -DEPENDS_ON-> B")
    res = await store.closure([g["A"].id, g["B"].id, "no-such-ci"], "in", ALL_TYPES, 10)
    assert reached(g, res.rows) == {("A", 0), ("B", 0), ("X", 1), ("Y", 1)}
    assert (await store.closure(["no-such-ci"], "out", ALL_TYPES, 10)).rows == []
