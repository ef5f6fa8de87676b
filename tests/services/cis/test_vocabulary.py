"""The services ask the schema for states and relationship types by meaning: a schema whose
states and types are renamed, with a terminal state added, behaves as the shipped one."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from cmdb.errors import ConflictError, RelationshipRuleError
from cmdb.model.records import Actor, HistoryAction
from cmdb.model.registry import DEFAULT_SCHEMA_DIR, Registry, load_registry
from cmdb.services import Cmdb

STATES = {"disposed": "written_off", "deployed": "in_service"}
TYPES = {"LOCATED_IN": "SITS_IN", "OWNED_BY": "BELONGS_TO", "MANAGED_BY": "LOOKED_AFTER_BY"}


def renamed_schema(target: Path) -> Path:
    """A copy of the shipped schema with the states and types above renamed, and a second
    terminal state, ``sold``, reached from ``retired``."""
    shutil.copytree(DEFAULT_SCHEMA_DIR, target)
    lifecycle = target / "lifecycle.yaml"
    text = lifecycle.read_text(encoding="utf-8")
    for old, new in STATES.items():
        text = re.sub(rf"\b{old}\b", new, text)
    text = text.replace("  lost:   ", "  sold:        {label: {en: Sold, zh-CN: 已出售}, "
                                     "terminal: true, audited: false, tone: muted}\n  lost:   ")
    text = text.replace("  retired: [written_off, in_stock]",
                        "  retired: [written_off, sold, in_stock]")
    text = text.replace("  written_off: []", "  written_off: []\n  sold: []")
    lifecycle.write_text(text, encoding="utf-8")
    relationships = target / "relationships.yaml"
    text = relationships.read_text(encoding="utf-8")
    for old, new in TYPES.items():
        text = re.sub(rf"\b{old}\b", new, text)
    relationships.write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """Overrides the shipped registry for the store and ``cmdb`` fixtures of this module."""
    return load_registry(renamed_schema(tmp_path_factory.mktemp("renamed") / "schema"))


def test_the_renamed_schema_says_what_each_name_means(registry: Registry) -> None:
    assert "disposed" not in registry.states
    assert "LOCATED_IN" not in registry.relationship_types
    assert registry.terminal_states == {"written_off", "sold"}
    assert registry.disposed_state == "written_off"
    assert registry.in_use_state == "in_service"
    assert registry.location_type == "SITS_IN"
    assert registry.owner_type == "BELONGS_TO"
    assert {"sold", "written_off", "planned"} <= set(registry.states_where(audited=False))
    assert {"sold", "written_off", "retired", "lost"} <= registry.out_of_service_states


async def test_a_renamed_schema_places_owns_and_disposes(cmdb: Cmdb, actor: Actor) -> None:
    cis = cmdb.cis
    site = await cis.create(actor, {"class_name": "Site", "name": "北京总部",
                                    "state": "in_service"})
    room = await cis.create(actor, {"class_name": "Room", "name": "3楼机房",
                                    "location_id": site.id})
    team = await cis.create(actor, {"class_name": "Team", "name": "运维组"})
    host = await cis.create(actor, {"class_name": "Server", "name": "bj-db01",
                                    "location_id": room.id, "owner_id": team.id})
    out = await cmdb.store.relationships_of([host.id], "out")
    assert sorted(r.type for r in out[host.id]) == ["BELONGS_TO", "SITS_IN"]
    assert [c.name for c in await cis.location_path(host)] == ["北京总部", "3楼机房"]
    assert (await cmdb.labels.owners([host]))[host.id] == "运维组"

    gone = await cis.dispose(actor, room.id)
    assert gone.state == "written_off"
    assert (await cmdb.store.relationships_of([room.id], "out")).get(room.id, []) == []


async def test_a_new_terminal_state_is_treated_as_disposed(cmdb: Cmdb, actor: Actor) -> None:
    cis = cmdb.cis
    team = await cis.create(actor, {"class_name": "Team", "name": "运维组"})
    old = await cis.create(actor, {"class_name": "Server", "name": "bj-old-db01",
                                   "state": "retired", "owner_id": team.id,
                                   "serial_number": "CN7016ABC", "attributes": {
                                       "manufacturer": "Dell"}})
    twin = await cis.create(actor, {"class_name": "Server", "name": "bj-old-db01 "})
    sold = await cis.transition(actor, old.id, "sold", "sold to a recycler")
    history = (await cmdb.store.history(ci_id=old.id)).items
    assert HistoryAction.DISPOSED in [h.action for h in history]
    assert (await cmdb.store.relationships_of([old.id], "out")).get(old.id, []) == []
    with pytest.raises(ConflictError, match="is sold and cannot change"):
        await cis.update(actor, old.id, sold.version, {"name": "again"})
    with pytest.raises(RelationshipRuleError, match="is sold and cannot be related"):
        await cis.relate(actor, old.id, "BELONGS_TO", team.id)
    report = await cmdb.health.report()
    servers = next(c for c in report.completeness if c.class_name == "Server")
    assert servers.total == 1  # the twin only: the sold one is passed by
    assert not report.duplicates
    assert twin.state == "planned"
