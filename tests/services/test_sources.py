"""``schema/sources.yaml``: checked at load, errors naming the file and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmdb.errors import SchemaDefinitionError
from cmdb.model.registry import Registry
from cmdb.services.sources import load_sources


def test_the_packaged_file_loads_with_its_defaults(registry: Registry) -> None:
    config = load_sources(registry=registry)
    assert config.identification == ("asset_tag", "serial_number", "mac_addresses",
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


@pytest.mark.parametrize(("text", "entry"), [
    ("identification: [asset_tag]\nsources: {nmap: {priority: 1, bogus: 2}}\n",
     "sources.nmap.bogus"),
    ("identification: [asset_tag, colour]\nsources: {}\n", "identification.1"),
    ("identification: [asset_tag, asset_tag]\nsources: {}\n", "identification"),
    ("identification: [asset_tag]\nsources: {}\nplaces: {top: Sitee}\n", "places.top"),
    ("identification: [asset_tag]\nsources: {}\nplaces: {patterns: {Rack: ['(']}}\n",
     "places.patterns"),
])
def test_a_bad_file_names_the_entry(tmp_path: Path, registry: Registry, text: str,
                                    entry: str) -> None:
    (tmp_path / "sources.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(SchemaDefinitionError) as info:
        load_sources(tmp_path, registry)
    assert info.value.message.startswith(f"sources.yaml: {entry}")
