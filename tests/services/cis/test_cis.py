"""The CI rules, on every store: validation, uniqueness, versions, lifecycle, relations, history."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cmdb.errors import (
    ConflictError,
    DuplicateError,
    InvalidTransitionError,
    NotFoundError,
    RelationshipRuleError,
    UnknownClassError,
    ValidationError,
    VersionConflictError,
)
from cmdb.model.queries import CISelection
from cmdb.model.records import CI, Actor, HistoryAction
from cmdb.services import Cmdb


async def snapshot(cmdb: Cmdb) -> tuple[list[Any], list[Any], list[Any]]:
    """Everything in the store, to prove a refused change left it as it was."""
    cis = [c.model_dump() async for c in cmdb.store.iter_all("cis")]
    rels = [r.model_dump() async for r in cmdb.store.iter_all("relationships")]
    hist = [h.model_dump() async for h in cmdb.store.iter_all("history")]
    return cis, rels, hist


async def server(cmdb: Cmdb, actor: Actor, name: str = "srv", **kw: Any) -> CI:
    return await cmdb.cis.create(actor, {"class_name": "Server", "name": name, **kw})


async def test_create_normalises_and_records_history(cmdb: Cmdb, actor: Actor) -> None:
    ci = await server(cmdb, actor, "  web-01 ", asset_tag="ZC-1", serial_number="SN1",
                      attributes={"manufacturer": "Dell", "mac_addresses": ["3C-D9-2B-11-22-33"],
                                  "purchase_date": "2024-05-06", "cpu_cores": 8})
    assert ci.name == "web-01"
    assert ci.state == "planned"
    assert ci.version == 1
    assert ci.attributes["mac_addresses"] == ["3c:d9:2b:11:22:33"]
    hist = (await cmdb.store.history(ci_id=ci.id)).items
    assert [h.action for h in hist] == [HistoryAction.CREATED]
    assert hist[0].actor == "alice"
    assert hist[0].channel.value == "api"
    assert {(c.field, str(c.after)) for c in hist[0].changes} >= {
        ("name", "web-01"), ("asset_tag", "ZC-1"), ("attributes.cpu_cores", "8")}


@pytest.mark.parametrize(("data", "error", "field"), [
    ({"class_name": "Nope", "name": "x"}, UnknownClassError, "class"),
    ({"class_name": "Hardware", "name": "x"}, UnknownClassError, "class"),
    ({"class_name": "Server", "name": " "}, ValidationError, "name"),
    ({"class_name": "Server", "name": "x", "attributes": {"cpu_cores": "eight"}},
     ValidationError, "cpu_cores"),
    ({"class_name": "Server", "name": "x", "attributes": {"cpu_cores": 0}},
     ValidationError, "cpu_cores"),
    ({"class_name": "Server", "name": "x", "attributes": {"colour": "red"}},
     ValidationError, "colour"),
    ({"class_name": "Server", "name": "x", "attributes": {"mac_addresses": ["zz"]}},
     ValidationError, "mac_addresses"),
    ({"class_name": "Server", "name": "x", "attributes": {"purchase_date": "2024-13-01"}},
     ValidationError, "purchase_date"),
    ({"class_name": "BusinessService", "name": "x", "attributes": {"criticality": "huge"}},
     ValidationError, "criticality"),
    ({"class_name": "Cluster", "name": "x"}, ValidationError, "min_members"),
    ({"class_name": "Server", "name": "x", "state": "broken"}, ValidationError, "state"),
    ({"class_name": "Server", "name": "x", "location_id": "missing"}, NotFoundError, "to"),
])
async def test_invalid_create_is_coded_and_changes_nothing(
    cmdb: Cmdb, actor: Actor, data: dict[str, Any], error: type[Exception], field: str
) -> None:
    before = await snapshot(cmdb)
    with pytest.raises(error) as exc:
        await cmdb.cis.create(actor, data)
    assert exc.value.details.get("field") == field  # type: ignore[attr-defined]
    assert await snapshot(cmdb) == before


async def test_asset_tag_and_serial_per_manufacturer_unique(cmdb: Cmdb, actor: Actor) -> None:
    await server(cmdb, actor, "a", asset_tag="ZC-1", serial_number="SN",
                 attributes={"manufacturer": "Dell"})
    with pytest.raises(DuplicateError, match="ZC-1"):
        await server(cmdb, actor, "b", asset_tag="ZC-1")
    with pytest.raises(DuplicateError, match="SN"):
        await server(cmdb, actor, "c", serial_number="SN", attributes={"manufacturer": "Dell"})
    await server(cmdb, actor, "d", serial_number="SN", attributes={"manufacturer": "HP"})
    await cmdb.cis.create(actor, {"class_name": "Person", "name": "p",
                                  "attributes": {"employee_id": "E1"}})
    with pytest.raises(DuplicateError, match="employee_id"):
        await cmdb.cis.create(actor, {"class_name": "Person", "name": "q",
                                      "attributes": {"employee_id": "E1"}})


async def test_update_merges_attributes_and_refuses_stale_version(
    cmdb: Cmdb, actor: Actor
) -> None:
    ci = await server(cmdb, actor, attributes={"cpu_cores": 4, "model": "R750"})
    ci2 = await cmdb.cis.update(actor, ci.id, 1, {"attributes": {"cpu_cores": 8, "model": None}})
    assert ci2.version == 2
    assert ci2.attributes == {"cpu_cores": 8}
    before = await snapshot(cmdb)
    with pytest.raises(VersionConflictError) as exc:
        await cmdb.cis.update(actor, ci.id, 1, {"name": "late"})
    assert exc.value.details["currentVersion"] == 2
    assert await snapshot(cmdb) == before
    entry = (await cmdb.store.history(ci_id=ci.id)).items[0]
    assert {(c.field, c.before, c.after) for c in entry.changes} == {
        ("attributes.cpu_cores", 4, 8), ("attributes.model", "R750", None)}


async def test_concurrent_updates_exactly_one_wins(cmdb: Cmdb, actor: Actor) -> None:
    ci = await server(cmdb, actor)
    results = await asyncio.gather(
        *[cmdb.cis.update(Actor(name=f"u{i}"), ci.id, 1, {"name": f"n{i}"}) for i in range(8)],
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, CI)]
    assert len(winners) == 1
    assert all(isinstance(r, VersionConflictError) for r in results if not isinstance(r, CI))
    final = (await cmdb.store.get_cis([ci.id]))[ci.id]
    assert final.name == winners[0].name
    assert final.version == 2
    updates = [h for h in (await cmdb.store.history(ci_id=ci.id)).items
               if h.action is HistoryAction.UPDATED]
    assert len(updates) == 1
    assert updates[0].changes[0].after == final.name


async def test_transitions_follow_the_lifecycle(cmdb: Cmdb, actor: Actor) -> None:
    ci = await server(cmdb, actor, state="in_stock")
    with pytest.raises(InvalidTransitionError) as exc:
        await cmdb.cis.transition(actor, ci.id, "disposed")
    assert "deployed" in exc.value.message
    assert "retired" in exc.value.message
    assert exc.value.details["allowed"] == ["deployed", "retired", "lost", "stolen"]
    ci = await cmdb.cis.transition(actor, ci.id, "deployed", "racked in R01")
    ci = await cmdb.cis.transition(actor, ci.id, "lost", "not found at audit")
    ci = await cmdb.cis.transition(actor, ci.id, "in_stock", "found")
    entry = (await cmdb.store.history(ci_id=ci.id)).items[0]
    assert (entry.action, entry.reason, entry.changes[0].before, entry.changes[0].after) == (
        HistoryAction.TRANSITIONED, "found", "lost", "in_stock")


async def test_dispose_ends_relationships_and_stays_queryable(cmdb: Cmdb, actor: Actor) -> None:
    room = await cmdb.cis.create(actor, {"class_name": "Room", "name": "机房"})
    ci = await server(cmdb, actor, state="retired", location_id=room.id)
    gone = await cmdb.cis.dispose(actor, ci.id, "e-waste")
    assert gone.state == "disposed"
    assert (await cmdb.store.relationships_of([ci.id], "out"))[ci.id] == []
    assert (await cmdb.queries.get(ci.id)) is not None
    with pytest.raises(ConflictError):
        await cmdb.cis.update(actor, ci.id, gone.version, {"name": "zombie"})
    with pytest.raises(RelationshipRuleError):
        await cmdb.cis.relate(actor, ci.id, "LOCATED_IN", room.id)


async def test_relate_checks_the_schema(cmdb: Cmdb, actor: Actor) -> None:
    app = await cmdb.cis.create(actor, {"class_name": "Application", "name": "app"})
    vm = await cmdb.cis.create(actor, {"class_name": "VirtualMachine", "name": "vm"})
    person = await cmdb.cis.create(actor, {"class_name": "Person", "name": "张伟"})
    rel = await cmdb.cis.relate(actor, app.id, "RUNS_ON", vm.id, {"port": 443})
    assert (rel.type, rel.source_id, rel.target_id, rel.attributes) == (
        "RUNS_ON", app.id, vm.id, {"port": 443})
    with pytest.raises(RelationshipRuleError, match="cannot point to a Person"):
        await cmdb.cis.relate(actor, app.id, "RUNS_ON", person.id)
    with pytest.raises(RelationshipRuleError, match="unknown relationship type"):
        await cmdb.cis.relate(actor, app.id, "LIKES", vm.id)
    with pytest.raises(RelationshipRuleError, match="itself"):
        await cmdb.cis.relate(actor, app.id, "DEPENDS_ON", app.id)
    with pytest.raises(DuplicateError):
        await cmdb.cis.relate(actor, app.id, "RUNS_ON", vm.id)
    await cmdb.cis.relate(actor, app.id, "OWNED_BY", person.id)
    with pytest.raises(ConflictError, match="already has a OWNED_BY"):
        await cmdb.cis.relate(actor, app.id, "OWNED_BY", person.id)
    ended = await cmdb.cis.unrelate(actor, rel.id, "moved")
    assert ended.ended_at is not None
    with pytest.raises(ConflictError):
        await cmdb.cis.unrelate(actor, rel.id)
    actions = [h.action for h in (await cmdb.store.history(ci_id=vm.id)).items]
    assert actions == [HistoryAction.UNRELATED, HistoryAction.RELATED, HistoryAction.CREATED]


async def test_location_and_owner_through_update(cmdb: Cmdb, actor: Actor) -> None:
    r1 = await cmdb.cis.create(actor, {"class_name": "Room", "name": "r1"})
    r2 = await cmdb.cis.create(actor, {"class_name": "Room", "name": "r2"})
    ci = await server(cmdb, actor, location_id=r1.id)
    ci = await cmdb.cis.update(actor, ci.id, 1, {"location_id": r2.id})
    assert ci.version == 1  # only a relationship changed
    rels = (await cmdb.store.relationships_of([ci.id], "out", ["LOCATED_IN"]))[ci.id]
    assert [r.target_id for r in rels] == [r2.id]
    assert await cmdb.store.count_cis(CISelection(location_id=r1.id)) == 0
    await cmdb.cis.update(actor, ci.id, 1, {"location_id": None})
    assert (await cmdb.store.relationships_of([ci.id], "out", ["LOCATED_IN"]))[ci.id] == []


async def test_not_found(cmdb: Cmdb, actor: Actor) -> None:
    with pytest.raises(NotFoundError):
        await cmdb.cis.update(actor, "missing", 1, {"name": "x"})
    with pytest.raises(NotFoundError):
        await cmdb.cis.transition(actor, "missing", "deployed")
    with pytest.raises(NotFoundError):
        await cmdb.cis.unrelate(actor, "missing")
