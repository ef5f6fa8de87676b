"""The store contract, continued: CI facts (the projection imports identify and compare
with). Every adapter passes these same tests."""

from __future__ import annotations

from datetime import UTC, datetime

from cmdb.model.queries import CIFacts
from cmdb.model.records import CI, Provenance, Relationship, decode_provenance, now
from cmdb.store.base import Store, StoreTx
from tests.store.test_contract import add, ci, link


def _as_facts(c: CI, location_id: str | None) -> tuple[object, ...]:
    return (c.id, c.class_name, c.name, c.state, c.asset_tag, c.serial_number, c.version,
            c.attributes, c.provenance, location_id)


def _seen(f: CIFacts) -> tuple[object, ...]:
    return (f.id, f.class_name, f.name, f.state, f.asset_tag, f.serial_number, f.version,
            f.attributes, decode_provenance(f.provenance), f.location_id)


async def test_facts_by_asset_tag_serial_and_id_carry_the_compared_columns(
        store: Store) -> None:
    stamp = Provenance(source="csv", at=datetime(2026, 7, 10, 2, 3, tzinfo=UTC), run_id="r1")
    rack = ci("A01机柜", "Rack")
    server = ci("财务服务器", asset_tag="BJ-0001", serial_number="7XK2M53", version=3,
                attributes={"manufacturer": "戴尔", "mac_addresses": ["3c:d9:2b:11:22:33"],
                            "cost": 12.5, "purchase_date": "2022-12-01"},
                provenance={"serial_number": stamp, "manufacturer": stamp})
    bare = ci("bare", "Workstation")
    await add(store, rack, server, bare)
    await link(store, server, "LOCATED_IN", rack)

    by_tag = await store.find_ci_facts("asset_tag", ["BJ-0001", "nobody"])
    assert list(by_tag) == ["BJ-0001"]
    [facts] = by_tag["BJ-0001"]
    assert _seen(facts) == _as_facts(server, rack.id)
    assert facts.serial_key == server.serial_key
    assert facts.setter("manufacturer") == "csv"
    assert facts.setter("model") is None

    [named] = (await store.find_ci_facts("asset_tag", ["BJ-0001"], ["cost", "model",
                                                                   "mac_addresses"]))["BJ-0001"]
    assert named.attributes == {"cost": 12.5, "mac_addresses": ["3c:d9:2b:11:22:33"]}
    assert named.serial_number == "7XK2M53"
    [bare_facts] = (await store.find_ci_facts("id", [server.id], []))[server.id]
    assert bare_facts.attributes == {}

    by_serial = await store.find_ci_facts("serial_key", [server.serial_key or ""])
    assert [f.id for f in by_serial[server.serial_key or ""]] == [server.id]

    by_id = await store.find_ci_facts("id", [server.id, bare.id, rack.id, "missing"])
    assert set(by_id) == {server.id, bare.id, rack.id}
    assert _seen(by_id[bare.id][0]) == _as_facts(bare, None)
    assert by_id[bare.id][0].setter("name") is None
    assert await store.find_ci_facts("id", []) == {}


async def test_facts_by_class_list_every_ci_with_its_current_place(store: Store) -> None:
    """[S1] -LOCATED_IN-> [R2] (the move from [R1] ended); [R1], [R2] -LOCATED_IN-> [ROOM]"""
    room, r1, r2 = ci("3楼机房", "Room"), ci("R1", "Rack"), ci("R2", "Rack")
    server = ci("S1")
    await add(store, room, r1, r2, server)
    for rack in (r1, r2):
        await link(store, rack, "LOCATED_IN", room)
    old = await link(store, server, "LOCATED_IN", r1)
    stamp = now()
    ended = old.model_copy(update={"ended_at": stamp, "updated_at": stamp, "version": 2})

    async def move(tx: StoreTx) -> None:
        await tx.update_relationship(ended, 1)
        await tx.insert_relationship(Relationship(type="LOCATED_IN", source_id=server.id,
                                                  target_id=r2.id))

    await store.write(move)
    found = await store.find_ci_facts("class", ["Rack", "Room", "Server", "Site"])
    assert set(found) == {"Rack", "Room", "Server"}
    assert {(f.name, f.location_id) for f in found["Rack"]} == {("R1", room.id),
                                                                ("R2", room.id)}
    assert [(f.name, f.location_id) for f in found["Room"]] == [("3楼机房", None)]
    assert [f.location_id for f in found["Server"]] == [r2.id]

