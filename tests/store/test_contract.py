"""The store contract: every adapter passes these same tests, test for test.

Here CIs (writes, keys, compare-and-set, lookups), reading everything, wiping and the
call counters, with the helpers the other parts use; the rest is in
``test_contract_<part>.py`` (lists, relationships, closure, docs, facts, counts, search).
"""

from __future__ import annotations

from typing import Any

import pytest

from cmdb.errors import DuplicateError, VersionConflictError
from cmdb.model.queries import CISelection
from cmdb.model.records import (
    CI,
    Channel,
    Doc,
    EntityKind,
    HistoryAction,
    HistoryEntry,
    Relationship,
    now,
)
from cmdb.store.base import Store, StoreTx


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


# ---- reading everything, wiping, counting calls ----------------------------------
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
