"""``schema/sources.yaml``: checked at load, errors naming the file and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmdb.errors import SchemaDefinitionError
from cmdb.model.registry import Registry
from cmdb.services.imports.sources import load_sources


def test_the_packaged_file_loads_with_its_defaults(registry: Registry) -> None:
    config = load_sources(registry=registry)
    assert config.identification == ("id", "asset_tag", "serial_number", "mac_addresses",
                                      "hostnames")
    glpi, nmap = config.policy("glpi"), config.policy("nmap")
    assert not glpi.create
    assert glpi.software
    assert not glpi.is_authoritative("location")
    assert glpi.priority_for("os_name") < config.setter_priority(None, "os_name")  # manual
    assert nmap.lists == "merge"
    assert config.policy("unknown-tool").authoritative == ()
    assert config.places.class_for("A01机柜", 2) == "Rack"
    assert config.places.class_for("3楼机房", 1) == "Room"
    assert config.places.class_for("2F", 1) == "Building"
    assert config.places.class_for("北京总部", 0) == "Site"
    owner, department = config.parties["owner"], config.parties["department"]
    assert (owner.class_name, owner.relationship) == ("Person", "OWNED_BY")
    assert (department.class_name, department.relationship) == ("Team", "MANAGED_BY")
    assert "管理部门" in config.parties["managing_department"].headers


BASE = "identification: [asset_tag]\nsources: {}\n"


@pytest.mark.parametrize(("text", "entry"), [
    ("identification: [asset_tag]\nsources: {nmap: {priority: 1, bogus: 2}}\n",
     "sources.nmap.bogus"),
    ("identification: [asset_tag, colour]\nsources: {}\n", "identification.1"),
    ("identification: [asset_tag, asset_tag]\nsources: {}\n", "identification"),
    ("identification: [asset_tag]\nsources: {}\nplaces: {top: Sitee}\n", "places.top"),
    ("identification: [asset_tag]\nsources: {}\nplaces: {patterns: {Rack: ['(']}}\n",
     "places.patterns"),
    # people and teams columns
    (f"{BASE}parties: {{owner: {{class: Persn, relationship: OWNED_BY}}}}\n",
     "parties.owner.class: 'Persn' is not a concrete CI class"),
    (f"{BASE}parties: {{owner: {{class: Person, relationship: OWNS}}}}\n",
     "parties.owner.relationship: unknown relationship type 'OWNS'"),
    (f"{BASE}parties: {{owner: {{class: Person, relationship: RUNS_ON}}}}\n",
     "parties.owner.relationship: RUNS_ON cannot point to a Person"),
    (f"{BASE}parties: {{owner: {{class: Person, relationship: DEPENDS_ON}}}}\n",
     "parties.owner.relationship: DEPENDS_ON carries failures"),
    (f"{BASE}parties: {{owner: {{class: Person, relationship: OWNED_BY}},\n"
     "  custodian: {class: Person, relationship: OWNED_BY, headers: [保管人]}}\n",
     "parties.custodian.relationship: OWNED_BY is single"),
    (f"{BASE}parties: {{a: {{class: Team, relationship: MANAGED_BY, headers: [管理部门]}},\n"
     "  b: {class: Team, relationship: MANAGED_BY, headers: ['管理 部门']}}\n",
     "parties.b.headers: header '管理 部门' is already parties.a's"),
    (f"{BASE}parties: {{Owner-Name: {{class: Person, relationship: OWNED_BY}}}}\n",
     "parties: Value error, 'Owner-Name': a party column is named like an attribute"),
    (f"{BASE}parties: {{owner: {{class: Person, relationship: OWNED_BY, colour: red}}}}\n",
     "parties.owner.colour"),
])
def test_a_bad_file_names_the_entry(tmp_path: Path, registry: Registry, text: str,
                                    entry: str) -> None:
    (tmp_path / "sources.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SchemaDefinitionError) as info:
        load_sources(tmp_path, registry)
    assert info.value.message.startswith(f"sources.yaml: {entry}")
