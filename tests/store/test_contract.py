"""The store contract: every adapter passes these same tests, test for test."""

from __future__ import annotations

from typing import Any

import pytest

from cmdb.errors import DuplicateError, NotFoundError, VersionConflictError
from cmdb.model.queries import (
    AttributeMatch,
    CIOrder,
    CIOrderField,
    CISelection,
    RelationshipEnds,
)
from cmdb.model.records import (
    CI,
    Channel,
    Doc,
    EntityKind,
    FieldChange,
    HistoryAction,
    HistoryEntry,
    Relationship,
    now,
)
from cmdb.store.base import Store, StoreTx

ALL_TYPES = ["DEPENDS_ON", "RUNS_ON", "HOSTED_ON", "CONNECTS_TO", "LOCATED_IN"]


def ci(name: str, cls: str = "Server", **kw: Any) -> CI:
    return CI(class_name=cls, name=name, state=kw.pop("state", "deployed"), **kw)


async def add(store: Store, *cis: CI) -> None:
    async def work(tx: StoreTx) -> None:
        for c in cis:
            await tx.insert_ci(c)

    await store.write(work)


async def link(store: Store, source: CI, rel_type: str, target: CI,
               attributes: dict[str, Any] | None = None) -> Relationship:
    rel = Relationship(type=rel_type, source_id=source.id, target_id=target.id,
                       attributes=attributes or {})

    async def work(tx: StoreTx) -> None:
        await tx.insert_relationship(rel)

    await store.write(work)
    return rel


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


# ---- CIs -------------------------------------------------------------------------
async def test_insert_and_read_back_every_field(store: Store) -> None:
    original = ci("核心交换机 Core-1", "Switch", asset_tag="ZC-1", serial_number="S1",
                  attributes={"manufacturer": "Cisco", "mac_addresses": ["3c:d9:2b:11:22:33"],
                              "cost": 12.5})
    await add(store, original)
    back = (await store.get_cis([original.id]))[original.id]
    assert back.model_dump() == original.model_dump()
    assert await store.find_ci_by_asset_tag("ZC-1") == back
    assert await store.find_ci_by_asset_tag("nope") is None


async def test_get_cis_batches_and_skips_missing(store: Store) -> None:
    a, b = ci("a"), ci("b")
    await add(store, a, b)
    found = await store.get_cis([a.id, "missing", b.id])
    assert set(found) == {a.id, b.id}
    assert await store.get_cis([]) == {}


async def test_asset_tag_is_unique(store: Store) -> None:
    await add(store, ci("a", asset_tag="T-1"))
    with pytest.raises(DuplicateError):
        await add(store, ci("b", asset_tag="T-1"))
    assert await store.count_cis(CISelection()) == 1


async def test_serial_is_unique_per_manufacturer(store: Store) -> None:
    await add(store, ci("a", serial_number="SN1", attributes={"manufacturer": "Dell"}))
    await add(store, ci("b", serial_number="SN1", attributes={"manufacturer": "HP"}))
    with pytest.raises(DuplicateError):
        await add(store, ci("c", serial_number="sn1", attributes={"manufacturer": "dell"}))


async def test_update_is_compare_and_set_on_version(store: Store) -> None:
    a = ci("a")
    await add(store, a)
    v2 = a.model_copy(update={"name": "a2", "version": 2})

    async def update(target: CI, expected: int) -> None:
        async def work(tx: StoreTx) -> None:
            await tx.update_ci(target, expected)

        await store.write(work)

    await update(v2, 1)
    with pytest.raises(VersionConflictError):
        await update(a.model_copy(update={"name": "lost", "version": 2}), 1)
    assert (await store.get_cis([a.id]))[a.id].name == "a2"


async def test_failed_unit_of_work_leaves_nothing(store: Store) -> None:
    a, b = ci("a", asset_tag="X"), ci("b", asset_tag="X")

    async def work(tx: StoreTx) -> None:
        await tx.insert_ci(a)
        await tx.add_history([HistoryEntry(
            actor="t", channel=Channel.API, action=HistoryAction.CREATED,
            entity_kind=EntityKind.CI, entity_id=a.id, ci_id=a.id)])
        await tx.insert_ci(b)

    with pytest.raises(DuplicateError):
        await store.write(work)
    assert await store.count_cis(CISelection()) == 0
    assert (await store.history(ci_id=a.id)).items == []


async def test_find_ids_inside_a_unit_of_work(store: Store) -> None:
    a = ci("a", asset_tag="T", serial_number="S", attributes={"manufacturer": "Dell"})
    p = ci("p", "Person", attributes={"employee_id": "E1"})
    await add(store, a, p)

    async def work(tx: StoreTx) -> tuple[list[str], list[str], list[str], CI | None]:
        return (await tx.find_ci_ids(asset_tag="T"),
                await tx.find_ci_ids(serial_key=a.serial_key),
                await tx.find_ci_ids_by_attribute(["Person"], "employee_id", "E1"),
                await tx.get_ci(a.id))

    tags, serials, people, got = await store.write(work)
    assert (tags, serials, people) == ([a.id], [a.id], [p.id])
    assert got is not None
    assert got.id == a.id


async def test_batched_key_lookups(store: Store) -> None:
    a = ci("a", asset_tag="T-1", serial_number="S1", attributes={"manufacturer": "Dell"})
    b = ci("b", asset_tag="T-2", serial_number="S1", attributes={"manufacturer": "HP"})
    await add(store, a, b)
    by_tag = await store.find_cis("asset_tag", ["T-1", "T-2", "T-9", "T-1"])
    assert {k: [c.id for c in v] for k, v in by_tag.items()} == {"T-1": [a.id], "T-2": [b.id]}
    assert by_tag["T-1"][0].model_dump() == a.model_dump()
    assert a.serial_key is not None
    by_serial = await store.find_cis("serial_key", [a.serial_key, "nobody"])
    assert [c.id for c in by_serial[a.serial_key]] == [a.id]
    assert await store.find_cis("asset_tag", []) == {}

    async def work(tx: StoreTx) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        return (await tx.holders("asset_tag", ["T-2", "T-3"]),
                await tx.holders("serial_key", [a.serial_key or ""]))

    assert await store.write(work) == ({"T-2": [b.id]}, {a.serial_key: [a.id]})


async def test_attribute_values_in_one_pass(store: Store) -> None:
    a = ci("a", attributes={"mac_addresses": ["3c:d9:2b:11:22:33"], "hostnames": ["a1"]})
    b = ci("b", attributes={"fqdn": "b.example", "os_name": "Linux"})
    await add(store, a, b, ci("c"))
    got = dict(await store.attribute_values(["mac_addresses", "hostnames", "fqdn"]))
    assert got == {a.id: {"mac_addresses": ["3c:d9:2b:11:22:33"], "hostnames": ["a1"]},
                   b.id: {"fqdn": "b.example"}}
    assert await store.attribute_values([]) == []


async def test_batched_compare_and_set(store: Store) -> None:
    a, b, c = ci("a"), ci("b"), ci("c")
    await add(store, a, b, c)
    r1, r2 = await link(store, a, "RUNS_ON", c), await link(store, b, "RUNS_ON", c)

    async def both(tx: StoreTx) -> dict[str, list[Relationship]]:
        await tx.update_cis([(a.model_copy(update={"name": "a2", "version": 2}), 1),
                             (b.model_copy(update={"name": "b2", "version": 2}), 1)])
        stamp = now()
        await tx.update_relationships([
            (r.model_copy(update={"ended_at": stamp, "version": 2}), 1) for r in (r1, r2)])
        return await tx.active_relationships_of([a.id, b.id, c.id], "out")

    active = await store.write(both)
    assert active == {a.id: [], b.id: [], c.id: []}
    got = await store.get_cis([a.id, b.id])
    assert (got[a.id].name, got[b.id].name) == ("a2", "b2")

    async def one_stale(tx: StoreTx) -> None:
        await tx.update_cis([(a.model_copy(update={"name": "a3", "version": 3}), 2),
                             (b.model_copy(update={"name": "lost", "version": 2}), 1)])

    with pytest.raises(VersionConflictError) as caught:
        await store.write(one_stale)
    assert caught.value.details["id"] == b.id
    got = await store.get_cis([a.id, b.id])
    assert (got[a.id].name, got[b.id].name) == ("a2", "b2")  # nothing was written

    async def stale_link(tx: StoreTx) -> None:
        await tx.update_relationships([(r1.model_copy(update={"version": 3}), 1)])

    with pytest.raises(VersionConflictError):
        await store.write(stale_link)


# ---- lists -----------------------------------------------------------------------
async def test_list_filters(store: Store) -> None:
    site, room = ci("Site", "Site"), ci("Room", "Room")
    sw = ci("sw", "Switch", attributes={"manufacturer": "Cisco"})
    srv = ci("srv", "Server", state="in_stock", asset_tag="ZC-9",
             attributes={"mac_addresses": ["3c:d9:2b:11:22:33"]})
    owner = ci("Ann", "Person")
    await add(store, site, room, sw, srv, owner)
    await link(store, room, "LOCATED_IN", site)
    await link(store, srv, "LOCATED_IN", room)
    await link(store, srv, "OWNED_BY", owner)

    async def names(**kw: Any) -> set[str]:
        page = await store.list_cis(CISelection(**kw), CIOrder(), 100, None)
        return {c.name for c in page.items}

    assert await names(classes=("Switch", "Server")) == {"sw", "srv"}
    assert await names(states=("in_stock",)) == {"srv"}
    assert await names(location_id=site.id) == {"Room", "srv"}
    assert await names(owner_id=owner.id) == {"srv"}
    assert await names(text="zc-9") == {"srv"}
    assert await names(text="%") == set()
    assert await names(attributes=(AttributeMatch("manufacturer", "Cisco"),)) == {"sw"}
    assert await names(attributes=(AttributeMatch("mac_addresses", "3c:d9:2b:11:22:33"),)) \
        == {"srv"}
    assert await names(ids=(sw.id, owner.id)) == {"sw", "Ann"}
    assert await names(classes=("Switch", "Server"), missing_attributes=("manufacturer",)) \
        == {"srv"}
    assert await store.count_cis(CISelection(classes=("Switch", "Server"))) == 2


async def test_list_pages_in_order_without_gaps(store: Store) -> None:
    cis = [ci(f"n{i:02d}", asset_tag=f"T{(7 * i) % 25:02d}") for i in range(25)]
    await add(store, *cis)
    for field in (CIOrderField.NAME, CIOrderField.ASSET_TAG, CIOrderField.CREATED_AT):
        for descending in (False, True):
            seen: list[str] = []
            after = None
            while True:
                page = await store.list_cis(CISelection(), CIOrder(field, descending), 7, after)
                seen += [c.id for c in page.items]
                if not page.has_next:
                    break
                after = page.cursors[-1]
            key = {CIOrderField.NAME: lambda c: (c.name, c.id),
                   CIOrderField.ASSET_TAG: lambda c: (c.asset_tag, c.id),
                   CIOrderField.CREATED_AT: lambda c: (c.created_at, c.id)}[field]
            expected = [c.id for c in sorted(cis, key=key, reverse=descending)]
            assert seen == expected, (field, descending)


# ---- relationships ----------------------------------------------------------------
async def test_relationships_active_and_ended(store: Store) -> None:
    a, b, c = ci("a"), ci("b"), ci("c")
    await add(store, a, b, c)
    r1 = await link(store, a, "DEPENDS_ON", b)
    r2 = await link(store, a, "RUNS_ON", c)
    out = await store.relationships_of([a.id, b.id], "out")
    assert {r.id for r in out[a.id]} == {r1.id, r2.id}
    assert out[b.id] == []
    only = await store.relationships_of([a.id], "out", ["RUNS_ON"])
    assert [r.id for r in only[a.id]] == [r2.id]
    assert [r.id for r in (await store.relationships_of([b.id], "in"))[b.id]] == [r1.id]

    ended = r1.model_copy(update={"ended_at": now(), "version": 2})

    async def end(tx: StoreTx) -> None:
        await tx.update_relationship(ended, 1)
        assert [r.id for r in await tx.active_relationships(a.id, "out")] == [r2.id]

    await store.write(end)
    assert {r.id for r in (await store.relationships_of([a.id], "out"))[a.id]} == {r2.id}
    kept = (await store.get_relationships([r1.id]))[r1.id]
    assert kept.ended_at is not None
    assert kept.version == 2
    with pytest.raises(NotFoundError):
        await link(store, a, "DEPENDS_ON", ci("never stored"))
    # the same link may be made again once the old one has ended
    await link(store, a, "DEPENDS_ON", b)
    with pytest.raises(DuplicateError):
        await link(store, a, "DEPENDS_ON", b)


async def test_relationship_ends_say_what_relationships_of_says_without_stamps(
        store: Store) -> None:
    a, b, c, d = ci("a"), ci("b"), ci("c"), ci("d")
    await add(store, a, b, c, d)
    owned = await link(store, a, "OWNED_BY", b, {"source": "csv", "field": "owner"})
    managed = await link(store, a, "MANAGED_BY", c)
    await link(store, a, "DEPENDS_ON", d)
    ended = await link(store, d, "OWNED_BY", b)

    async def end(tx: StoreTx) -> None:
        await tx.update_relationship(ended.model_copy(update={"ended_at": now(),
                                                              "version": 2}), 1)

    await store.write(end)
    out = await store.relationship_ends([a.id, d.id], "out", ["OWNED_BY", "MANAGED_BY"])
    assert out[d.id] == []
    assert sorted(out[a.id]) == sorted([
        RelationshipEnds(owned.id, "OWNED_BY", a.id, b.id, {"source": "csv",
                                                           "field": "owner"}),
        RelationshipEnds(managed.id, "MANAGED_BY", a.id, c.id, {})])
    into = await store.relationship_ends([b.id], "in")
    assert [(r.id, r.source_id) for r in into[b.id]] == [(owned.id, a.id)]
    targets = await store.linked_targets([a.id, d.id], "out", ["OWNED_BY", "MANAGED_BY"])
    assert sorted(targets[a.id]) == [("MANAGED_BY", c.id), ("OWNED_BY", b.id)]
    assert targets[d.id] == []
    assert (await store.linked_targets([b.id], "in", ["OWNED_BY"]))[b.id] == [
        ("OWNED_BY", a.id)]


async def test_relationship_pages_read_one_page_of_each_ci(store: Store) -> None:
    hub, lone = ci("hub"), ci("lone")
    spokes = [ci(f"spoke{i}") for i in range(7)]
    await add(store, hub, lone, *spokes)
    made = [await link(store, s, "CONNECTS_TO" if i % 3 else "POWERED_BY", hub)
            for i, s in enumerate(spokes)]
    every = (await store.relationships_of([hub.id], "in"))[hub.id]
    assert {r.id for r in every} == {r.id for r in made}
    pages = await store.relationship_pages([hub.id, lone.id], "in", None, 3)
    assert [r.id for r in pages[hub.id].items] == [r.id for r in every[:3]]
    assert (pages[hub.id].start, pages[hub.id].total, pages[hub.id].has_next) == (0, 7, True)
    assert (pages[lone.id].items, pages[lone.id].total) == ([], 0)
    rest = (await store.relationship_pages([hub.id], "in", None, 5, every[2].id))[hub.id]
    assert [r.id for r in rest.items] == [r.id for r in every[3:]]
    assert (rest.start, rest.has_next) == (3, False)
    assert rest.items[0] == every[3]
    gone = (await store.relationship_pages([hub.id], "in", None, 5, "no-such-id"))[hub.id]
    assert (gone.items, gone.total) == ([], 7)
    typed = (await store.relationship_pages([hub.id], "in", ["POWERED_BY"], 10))[hub.id]
    assert [r.id for r in typed.items] == [r.id for r in every if r.type == "POWERED_BY"]
    assert typed.total == 3
    out = (await store.relationship_pages([spokes[1].id], "out", None, 10))[spokes[1].id]
    assert [r.target_id for r in out.items] == [hub.id]


# ---- history ------------------------------------------------------------------------
async def test_history_by_ci_actor_run_newest_first_paged(store: Store) -> None:
    a, b = ci("a"), ci("b")
    await add(store, a, b)
    entries = []
    for i in range(5):
        entries.append(HistoryEntry(
            actor="bob" if i % 2 else "ann", channel=Channel.IMPORT, run_id="run1" if i < 2
            else None, action=HistoryAction.UPDATED, entity_kind=EntityKind.CI,
            entity_id=a.id, ci_id=a.id, changes=[FieldChange(field="name", before=i,
                                                             after=i + 1)], version=i))
    rel_entry = HistoryEntry(actor="ann", channel=Channel.API, action=HistoryAction.RELATED,
                             entity_kind=EntityKind.RELATIONSHIP, entity_id="r1", ci_id=b.id,
                             peer_id=a.id)

    async def work(tx: StoreTx) -> None:
        await tx.add_history([*entries, rel_entry])

    await store.write(work)
    page = await store.history(ci_id=a.id, first=4)
    assert [e.id for e in page.items] == [rel_entry.id, *[e.id for e in entries[::-1][:3]]]
    assert page.has_next
    rest = await store.history(ci_id=a.id, first=4, after=page.items[-1].id)
    assert [e.id for e in rest.items] == [entries[1].id, entries[0].id]
    assert not rest.has_next
    assert rest.items[0].changes == [FieldChange(field="name", before=1, after=2)]
    assert {e.id for e in (await store.history(actor="bob")).items} == {
        entries[1].id, entries[3].id}
    assert {e.id for e in (await store.history(run_id="run1")).items} == {
        entries[0].id, entries[1].id}
    assert [e.id for e in (await store.history(ci_id=b.id)).items] == [rel_entry.id]


# ---- closure -------------------------------------------------------------------------
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


async def test_bulk_inserts_are_atomic(store: Store) -> None:
    cis = [ci(f"bulk{i}", asset_tag=f"B{i}") for i in range(50)]
    rels = [Relationship(type="DEPENDS_ON", source_id=cis[i].id, target_id=cis[i + 1].id)
            for i in range(49)]

    async def load(tx: StoreTx) -> None:
        await tx.insert_cis(cis)
        await tx.insert_relationships(rels)

    await store.write(load)
    assert await store.count_cis(CISelection()) == 50
    assert len([r async for r in store.iter_all("relationships")]) == 49

    async def clash(tx: StoreTx) -> None:
        await tx.insert_cis([ci("new"), ci("dup", asset_tag="B3")])

    with pytest.raises(DuplicateError):
        await store.write(clash)
    assert await store.count_cis(CISelection()) == 50


async def test_docs_put_update_find_count(store: Store) -> None:
    run = Doc(kind="import_run", key="applied", data={"file": "资产.csv", "counts": {"NEW": 2}})
    outcomes = [Doc(kind="outcome", parent=run.id, key="NEW" if i % 2 else "MATCHED",
                    data={"line": i}) for i in range(5)]

    async def put(tx: StoreTx) -> None:
        await tx.put_docs([run, *outcomes])

    await store.write(put)
    assert (await store.get_docs("import_run", [run.id]))[run.id].data["file"] == "资产.csv"
    assert await store.get_docs("outcome", [run.id]) == {}
    page = await store.find_docs("outcome", parent=run.id, first=3, newest_first=False)
    assert [d.data["line"] for d in page.items] == [0, 1, 2]
    assert page.has_next
    rest = await store.find_docs("outcome", parent=run.id, after=page.items[-1].id,
                                 newest_first=False)
    assert [d.data["line"] for d in rest.items] == [3, 4]
    assert not rest.has_next
    newest = await store.find_docs("outcome", parent=run.id, key="NEW")
    assert [d.data["line"] for d in newest.items] == [3, 1]
    assert await store.count_docs("outcome", parent=run.id) == 5
    assert await store.count_docs("outcome", key="MATCHED") == 3

    async def update(tx: StoreTx) -> None:
        current = (await tx.get_docs("import_run", [run.id]))[run.id]
        await tx.update_doc(current.model_copy(update={"key": "done", "version": 2}), 1)

    await store.write(update)
    with pytest.raises(VersionConflictError):
        await store.write(update)
    assert (await store.get_docs("import_run", [run.id]))[run.id].key == "done"
    with pytest.raises(DuplicateError):
        await store.write(put)
    assert len([d async for d in store.iter_all("docs")]) == 6


async def test_iter_all_and_wipe(store: Store) -> None:
    a, b = ci("a"), ci("b")
    await add(store, a, b)
    await link(store, a, "DEPENDS_ON", b)
    assert sorted([c.id async for c in store.iter_all("cis")]) == sorted([a.id, b.id])
    assert len([r async for r in store.iter_all("relationships")]) == 1
    await store.wipe()
    assert await store.count_cis(CISelection()) == 0
    assert [d async for d in store.iter_all("docs")] == []


async def test_iter_all_across_pages(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adapters that read in pages (Neo4j) give every record once, in order."""
    monkeypatch.setattr("cmdb.store.neo4j.store.PAGE", 2)
    cis = [ci(f"c{i}") for i in range(5)]
    await add(store, *cis)
    docs = [Doc(kind="t", key=str(i), data={"i": i}) for i in range(5)]
    entries = [HistoryEntry(actor="t", channel=Channel.API, action=HistoryAction.CREATED,
                            entity_kind=EntityKind.CI, entity_id=c.id, ci_id=c.id)
               for c in cis]

    async def work(tx: StoreTx) -> None:
        await tx.put_docs(docs)
        await tx.add_history(entries)

    await store.write(work)
    assert [c.id async for c in store.iter_all("cis")] == sorted(c.id for c in cis)
    assert [d.data["i"] async for d in store.iter_all("docs")] == [0, 1, 2, 3, 4]
    assert [h.ci_id async for h in store.iter_all("history")] == [c.id for c in cis]


async def test_ping_and_call_counter(store: Store) -> None:
    await store.ping()
    before = store.calls["get_cis"]
    await store.get_cis(["x"])
    assert store.calls["get_cis"] == before + 1


async def test_every_read_and_write_is_told_to_the_call_observers(store: Store) -> None:
    """One place sees each store call: reads are counted and timed, a write transaction
    and a ping are timed but not counted as reads; an observer added twice hears once."""
    heard: list[tuple[str, float]] = []

    def observer(name: str, seconds: float) -> None:
        heard.append((name, seconds))

    store.observe_calls(observer)
    store.observe_calls(observer)
    before = dict(store.calls)
    await store.ping()
    await add(store, ci("observed"))
    await store.get_cis(["x"])
    await store.count_cis(CISelection())
    assert [name for name, _ in heard] == ["ping", "write", "get_cis", "count_cis"]
    assert all(seconds >= 0 for _, seconds in heard)
    assert {k: v - before.get(k, 0) for k, v in store.calls.items()
            if v != before.get(k, 0)} == {"get_cis": 1, "count_cis": 1}
