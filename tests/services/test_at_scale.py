"""Traversals, impact, single points of failure and every list, on a generated estate of
5,000 CIs (14k relationships, history, import outcomes and findings) in both stores.

Neo4j must give the same answers as SQLite, and each call must come back within
``GUARD`` seconds: a healthy plan answers in tens of milliseconds, so the bound only
catches a plan that explodes (a search that expands both ways, a scan per row), it is
not a benchmark (those are in bench/). The estate is loaded once for the module, through
the bulk path (a backup of the SQLite estate restored into Neo4j).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bench.bench_search import addressed
from bench.generate import build_estate, load
from cmdb.model.definitions import Propagation
from cmdb.model.queries import AttributeMatch, CIOrder, CIOrderField, CISelection, Cursor
from cmdb.model.records import Channel, Doc, EntityKind, HistoryAction, HistoryEntry
from cmdb.model.registry import Registry, load_registry
from cmdb.model.search import parse_search
from cmdb.services import Cmdb
from cmdb.services.backup.service import backup, restore
from cmdb.settings import Settings
from cmdb.store.base import StoreTx
from cmdb.store.neo4j.closure import level_query, more_query
from cmdb.store.neo4j.store import Neo4jStore
from cmdb.store.sqlite.store import SqliteStore
from tests.support.neo4j_server import Neo4jServer

pytestmark = pytest.mark.neo4j

T = TypeVar("T")
GUARD = 10.0
CIS = 5000
DEPTH = 10


@dataclass
class Estate:
    sqlite: Path
    core_switches: list[str]
    services: list[str]
    racks: list[str]
    teams: list[str]
    sites: list[str]
    rooms: list[str]


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, neo4j_server: Neo4jServer) -> Estate:
    where = tmp_path_factory.mktemp("estate")
    return asyncio.run(_build(where, neo4j_server))


async def _build(where: Path, server: Neo4jServer) -> Estate:
    generated = addressed(build_estate(CIS))  # servers and VMs with IPs, MACs, host names
    sqlite = SqliteStore(where / "estate.sqlite3")
    await sqlite.open()
    await load(sqlite, generated, progress=False)

    async def more(tx: StoreTx) -> None:
        await tx.add_history([
            HistoryEntry(actor=("gen", "ann", "bob")[i % 3], channel=Channel.IMPORT,
                         run_id="run-1" if i < 1000 else None, action=HistoryAction.CREATED,
                         entity_kind=EntityKind.CI, entity_id=c.id, ci_id=c.id)
            for i, c in enumerate(generated.cis)])
        await tx.add_history([
            HistoryEntry(actor="ann", channel=Channel.API, action=HistoryAction.RELATED,
                         entity_kind=EntityKind.RELATIONSHIP, entity_id=r.id,
                         ci_id=r.source_id, peer_id=r.target_id)
            for r in generated.rels[:2000]])
        await tx.put_docs(
            [Doc(kind="outcome", parent="run-1", key=("MATCHED", "NEW", "AMBIGUOUS")[
                0 if i % 20 < 16 else 1 if i % 20 < 19 else 2], data={"line": i})
             for i in range(3000)]
            + [Doc(kind="import_run", key="applied", data={"n": i}) for i in range(3)]
            + [Doc(kind="finding", parent=f"campaign-{i % 2}",
                   key="MISSING" if i % 10 == 0 else "VERIFIED", data={"i": i})
               for i in range(1000)])

    await sqlite.write(more)
    dump = where / "estate.jsonl"
    with dump.open("w", encoding="utf-8") as f:
        await backup(sqlite, f)
    await sqlite.close()
    neo4j = Neo4jStore(server.uri, server.auth, sorted(load_registry().relationship_types),
                       timeout=60)
    await neo4j.open()
    await neo4j.wipe()
    await restore(neo4j, dump)
    await neo4j.close()
    by_class: dict[str, list[str]] = {}
    for c in generated.cis:
        by_class.setdefault(c.class_name, []).append(c.id)
    return Estate(where / "estate.sqlite3", generated.core_switches, generated.services,
                  by_class["Rack"], by_class["Team"], by_class["Site"], by_class["Room"])


@pytest.fixture
async def stores(estate: Estate, neo4j_server: Neo4jServer, registry: Registry
                 ) -> AsyncIterator[tuple[Cmdb, Cmdb]]:
    """The estate in SQLite (the reference) and in Neo4j, each behind the services."""
    both = (SqliteStore(estate.sqlite),
            Neo4jStore(neo4j_server.uri, neo4j_server.auth, sorted(registry.relationship_types)))
    for s in both:
        await s.open()
    try:
        yield tuple(Cmdb.build(Settings(), store=s, registry=registry)  # type: ignore[misc]
                    for s in both)
    finally:
        for s in both:
            await s.close()


async def guarded(call: Awaitable[T]) -> T:
    started = time.perf_counter()
    result = await call
    elapsed = time.perf_counter() - started
    assert elapsed < GUARD, f"{elapsed:.1f} s: the plan explodes"
    return result


def types(registry: Registry) -> tuple[list[str], list[str]]:
    return (registry.types_propagating(Propagation.TARGET_TO_SOURCE),
            registry.types_propagating(Propagation.REDUNDANCY))


async def test_closures_match_sqlite(stores: tuple[Cmdb, Cmdb], estate: Estate,
                                     registry: Registry) -> None:
    lite, neo = stores
    forward, groups = types(registry)
    cases: list[tuple[list[str], Any, list[str], int, list[str]]] = [
        ([estate.core_switches[0]], "in", forward, DEPTH, []),
        (estate.racks[:3], "in", forward, DEPTH, groups),
        (estate.racks[:3], "in", forward, 3, groups),
        (estate.services[:2], "out", forward, DEPTH, groups),
        ([estate.sites[0]], "in", [*forward, "MEMBER_OF"], DEPTH, []),
        ([estate.services[0], "no-such-ci"], "out", forward, 0, groups),
    ]
    for starts, direction, follow, depth, reverse in cases:
        want = await lite.store.closure(starts, direction, follow, depth, reverse)
        got = await guarded(neo.store.closure(starts, direction, follow, depth, reverse))
        assert {(r.ci_id, r.depth) for r in got.rows} == {(r.ci_id, r.depth) for r in want.rows}
        assert got.truncated == want.truncated
        depth_of = {r.ci_id: r.depth for r in got.rows}
        for row in got.rows:
            if row.parent_id is not None:
                assert depth_of[row.parent_id] == row.depth - 1
    assert len(want.rows) == 1  # the missing start is not there


async def test_impact_dependencies_and_spof_match_sqlite(
    stores: tuple[Cmdb, Cmdb], estate: Estate
) -> None:
    lite, neo = stores
    for starts in ([estate.core_switches[0]], estate.racks[:3]):
        want = await lite.impact.impact(starts, max_depth=DEPTH)
        got = await guarded(neo.impact.impact(starts, max_depth=DEPTH))
        assert {(i.ci.id, i.status, i.depth) for i in got.impacted} == \
            {(i.ci.id, i.status, i.depth) for i in want.impacted}
        assert {s.ci.id for s in got.services} == {s.ci.id for s in want.services}
        assert got.truncated == want.truncated
        assert len(got.impacted) > 20
    for service in estate.services[:3]:
        want_spof = await lite.impact.single_points_of_failure(service)
        got_spof = await guarded(neo.impact.single_points_of_failure(service))
        assert [(s.ci.id, s.depth) for s in got_spof] == [(s.ci.id, s.depth) for s in want_spof]
        assert got_spof
    want_deps = await lite.impact.dependencies(estate.services[:2], DEPTH)
    got_deps = await guarded(neo.impact.dependencies(estate.services[:2], DEPTH))
    assert [(d.ci.id, d.depth, [c.id for c in d.shared_by]) for d in got_deps] == \
        [(d.ci.id, d.depth, [c.id for c in d.shared_by]) for d in want_deps]


async def test_change_impact_is_quick(stores: tuple[Cmdb, Cmdb], estate: Estate) -> None:
    from datetime import UTC, datetime

    from cmdb.model.records import Actor
    from cmdb.services.changes.service import ChangeInput

    _, neo = stores
    doc = await guarded(neo.changes.plan(Actor(name="t"), ChangeInput(
        title="swap a core switch", description="", requester="ann", responsible="bob",
        window_start=datetime(2026, 11, 28, 22, tzinfo=UTC),
        window_end=datetime(2026, 11, 29, 2, tzinfo=UTC), ci_ids=[estate.core_switches[0]])))
    assert len(doc.impact.impacted) > 50


SELECTIONS = {
    "hardware (most CIs)": CISelection(classes=tuple(
        load_registry().descendants("Hardware", concrete_only=True))),
    "one rare class": CISelection(classes=("Ups",)),
    "everything": CISelection(),
    "in a site": "site",
    "servers in a room": "room",
    "owned by a team": "team",
    "deployed": CISelection(states=("deployed",)),
    "a name fragment": CISelection(text="rack-1"),
    "an attribute": CISelection(attributes=(AttributeMatch("engine", "Oracle"),)),
    "the box: an IP": CISelection(search=parse_search("10.0.0.7")),
    "the box: a MAC, Cisco notation": CISelection(search=parse_search("001A.2B00.0007")),
    "the box: a host name fragment": CISelection(search=parse_search("rack-1-srv-1")),
    "the box: an FQDN fragment (most CIs)": CISelection(search=parse_search("DC1.example")),
    "the box: twelve hex digits": CISelection(search=parse_search("001a2b000007")),
    "the box: servers by name part": CISelection(search=parse_search("srv-1"),
                                                 classes=("Server",)),
}


async def test_the_box_finds_one_address_among_thousands(stores: tuple[Cmdb, Cmdb]) -> None:
    for cmdb in stores:
        for typed in ("10.0.0.7", "00-1A-2B-00-00-07", "001a.2b00.0007"):
            page = await guarded(cmdb.queries.search(typed, first=50))
            assert [c.attributes["ip_addresses"] for c in page.items] == [["10.0.0.7"]]
        fqdn = await guarded(cmdb.queries.search("rack-1-srv-1.DC1.example.cn"))
        assert [c.name for c in fqdn.items] == ["rack-1-srv-1"]


def selection(name: str, estate: Estate) -> CISelection:
    value = SELECTIONS[name]
    if value == "site":
        return CISelection(location_id=estate.sites[0])
    if value == "room":
        return CISelection(location_id=estate.rooms[0], classes=("Server",))
    if value == "team":
        return CISelection(owner_id=estate.teams[0])
    assert isinstance(value, CISelection)
    return value


@pytest.mark.parametrize("name", list(SELECTIONS))
async def test_ci_pages_match_sqlite(stores: tuple[Cmdb, Cmdb], estate: Estate,
                                     name: str) -> None:
    lite, neo = stores
    query = selection(name, estate)
    assert await guarded(neo.store.count_cis(query)) == await lite.store.count_cis(query)
    for field in CIOrderField:
        for descending in (False, True):
            order = CIOrder(field, descending)
            after: tuple[Cursor | None, Cursor | None] = (None, None)
            for _ in range(3):
                want = await lite.store.list_cis(query, order, 40, after[0])
                got = await guarded(neo.store.list_cis(query, order, 40, after[1]))
                assert [c.id for c in got.items] == [c.id for c in want.items], (field, name)
                assert got.has_next == want.has_next
                if not got.has_next:
                    break
                after = (want.cursors[-1], got.cursors[-1])


async def test_history_pages_match_sqlite(stores: tuple[Cmdb, Cmdb], estate: Estate) -> None:
    lite, neo = stores
    busy = estate.racks[0]  # its servers and PDUs relate to it: entries as ci and as peer
    for where in ({}, {"ci_id": busy}, {"actor": "bob"}, {"run_id": "run-1"},
                  {"actor": "gen", "run_id": "run-1"}, {"ci_id": "no-such-ci"}):
        after: tuple[str | None, str | None] = (None, None)
        for _ in range(3):
            want = await lite.store.history(first=25, after=after[0], **where)
            got = await guarded(neo.store.history(first=25, after=after[1], **where))
            assert [e.id for e in got.items] == [e.id for e in want.items], where
            assert got.has_next == want.has_next
            if not got.has_next:
                break
            after = (want.items[-1].id, got.items[-1].id)


async def test_doc_pages_match_sqlite(stores: tuple[Cmdb, Cmdb]) -> None:
    lite, neo = stores
    for kind, where in (("outcome", {}), ("import_run", {}), ("outcome", {"parent": "run-1"}),
                        ("outcome", {"parent": "run-1", "key": "AMBIGUOUS"}),
                        ("outcome", {"key": "NEW"}), ("finding", {"parent": "campaign-1",
                                                                  "key": "MISSING"})):
        assert await guarded(neo.store.count_docs(kind, **where)) == \
            await lite.store.count_docs(kind, **where)
        for newest in (True, False):
            after: tuple[str | None, str | None] = (None, None)
            for _ in range(3):
                want = await lite.store.find_docs(kind, first=30, after=after[0],
                                                  newest_first=newest, **where)
                got = await guarded(neo.store.find_docs(kind, first=30, after=after[1],
                                                        newest_first=newest, **where))
                assert [d.id for d in got.items] == [d.id for d in want.items], (kind, where)
                assert got.has_next == want.has_next
                if not got.has_next:
                    break
                after = (want.items[-1].id, got.items[-1].id)


async def test_relationship_pages_of_a_busy_ci_match_sqlite(
    stores: tuple[Cmdb, Cmdb], estate: Estate
) -> None:
    lite, neo = stores
    ids = [estate.teams[0], estate.core_switches[0], estate.racks[0]]
    after: tuple[str | None, str | None] = (None, None)
    for _ in range(3):
        want = await lite.store.relationship_pages(ids[:1], "in", None, 50, after[0])
        got = await guarded(neo.store.relationship_pages(ids[:1], "in", None, 50, after[1]))
        assert [r.id for r in got[ids[0]].items] == [r.id for r in want[ids[0]].items]
        assert got[ids[0]].total == want[ids[0]].total > 100
        after = (want[ids[0]].items[-1].id, got[ids[0]].items[-1].id)
    want_all = await lite.store.relationship_pages(ids, "in", ["CONNECTS_TO", "LOCATED_IN"], 20)
    got_all = await guarded(neo.store.relationship_pages(ids, "in", ["CONNECTS_TO",
                                                                     "LOCATED_IN"], 20))
    for i in ids:
        assert [r.id for r in got_all[i].items] == [r.id for r in want_all[i].items]
        assert got_all[i].total == want_all[i].total


async def test_closure_plans_expand_only_the_allowed_way(
    stores: tuple[Cmdb, Cmdb], registry: Registry, estate: Estate
) -> None:
    """The plan of a BFS level: the frontier by its unique index, then one typed, directed
    expansion per kind of step; never a scan, never a path search."""
    _, neo = stores
    forward, groups = types(registry)
    assert isinstance(neo.store, Neo4jStore)
    for direction in ("in", "out"):
        for cypher in (level_query(direction, forward, groups),
                       more_query(direction, forward, groups)):
            async with neo.store.driver.session() as session:
                result = await session.run("EXPLAIN " + cypher,
                                           frontier=estate.racks[:3], seen=[])
                plan = (await result.consume()).plan
            assert plan is not None
            operators = _operators(plan)
            assert "NodeUniqueIndexSeek" in operators
            assert not {"AllNodesScan", "NodeByLabelScan", "StatefulShortestPath(Into)",
                        "StatefulShortestPath(All)", "ShortestPath", "VarLengthExpand(All)",
                        } & set(operators), operators
            expands = [d for op, d in _expands(plan)]
            arrows = ("<-[r:", "-[r:MEMBER_OF]->") if direction == "in" \
                else ("-[r:", "<-[r:MEMBER_OF]-")
            assert expands
            assert all(any(a in d for a in arrows) for d in expands), expands


def _operators(plan: Any) -> list[str]:
    op = plan["operatorType"].split("@")[0]
    return [op, *(o for child in plan.get("children", []) for o in _operators(child))]


def _expands(plan: Any) -> list[tuple[str, str]]:
    op = plan["operatorType"].split("@")[0]
    here = [(op, str(plan["args"].get("Details", "")))] if op.startswith("Expand") else []
    return here + [e for child in plan.get("children", []) for e in _expands(child)]
