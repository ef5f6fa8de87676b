"""The model as data: schema/ loads, bad definitions name file and entry, users extend it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from cmdb.errors import (
    InvalidTransitionError,
    RelationshipRuleError,
    SchemaDefinitionError,
    UnknownClassError,
    ValidationError,
)
from cmdb.model.registry import DEFAULT_SCHEMA_DIR, Registry, load_registry


@pytest.fixture
def schema_copy(tmp_path: Path) -> Path:
    target = tmp_path / "schema"
    shutil.copytree(DEFAULT_SCHEMA_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_schema_has_the_design_classes(registry: Registry) -> None:
    for name in ("Server", "VirtualMachine", "Switch", "Router", "Firewall", "AccessPoint",
                 "Storage", "Workstation", "Laptop", "MobileDevice", "Printer", "Rack", "Ups",
                 "Pdu", "BusinessService", "Application", "Database", "Middleware",
                 "SoftwareProduct", "SoftwareInstallation", "Licence", "Site", "Building",
                 "Room", "Person", "Team", "Cluster"):
        assert not registry.class_info(name).abstract, name
    assert set(registry.descendants("NetworkDevice")) == {
        "NetworkDevice", "Switch", "Router", "Firewall", "AccessPoint"}
    assert registry.class_info("Switch").is_a("Hardware")
    assert "mac_addresses" in registry.class_info("Laptop").attributes


def test_propagation_is_declared_per_type(registry: Registry) -> None:
    props = {n: d.propagation.value for n, d in registry.relationship_types.items()}
    assert props["RUNS_ON"] == "target_to_source"
    assert props["MEMBER_OF"] == "redundancy"
    assert {props[t] for t in ("OWNED_BY", "MANAGED_BY", "LICENSED_BY")} == {"none"}


def test_chinese_and_english_aliases(registry: Registry) -> None:
    assert registry.resolve_class("服务器") == "Server"
    assert registry.resolve_class("笔记本电脑") == "Laptop"
    assert registry.resolve_class("network device") == "NetworkDevice"
    assert registry.resolve_state("在用") == "deployed"
    assert registry.resolve_state("库存") == "in_stock"
    assert registry.resolve_state("In Use") == "deployed"
    assert registry.resolve_class("spaceship") is None


def test_lifecycle_rules(registry: Registry) -> None:
    assert registry.allowed_transitions("lost") == ["in_stock", "stolen"]
    assert "lost" in registry.allowed_transitions("deployed")
    with pytest.raises(InvalidTransitionError,
                       match=r"allowed from 'disposed': lost \(遗失\), stolen \(被盗\)"):
        registry.check_transition("disposed", "deployed")


def test_every_name_is_accepted_where_a_name_is_expected(registry: Registry) -> None:
    """GraphQL, the CLI, importers and pages all ask the registry: each takes the schema's
    names, labels and aliases in English or Chinese, and answers the canonical name."""
    assert registry.class_info("服务器").name == "Server"
    assert registry.concrete_class("physical server").name == "Server"
    assert "Server" in registry.descendants("硬件")
    assert registry.check_state("在用") == "deployed"
    assert registry.check_transition("in_stock", "在用") == "deployed"
    assert registry.type_name("依赖于") == "DEPENDS_ON"
    assert registry.type_name("runs on") == "RUNS_ON"
    assert registry.relationship_type("运行于").propagation.value == "target_to_source"


def test_unknown_names_are_listed_in_both_languages(registry: Registry) -> None:
    with pytest.raises(ValidationError, match=r"states: planned \(计划中\), .*deployed \(在用\)"):
        registry.check_state("在用中x")
    with pytest.raises(UnknownClassError, match=r"Server \(服务器\)"):
        registry.class_info("宇宙飞船")
    with pytest.raises(RelationshipRuleError, match=r"DEPENDS_ON \(依赖于\)"):
        registry.type_name("依靠")


def test_user_adds_a_class_and_an_attribute_without_code(schema_copy: Path) -> None:
    edit(schema_copy / "classes.yaml", "  Printer: {parent: Hardware",
         "  Camera:\n    parent: Hardware\n    label: {en: CCTV camera, zh-CN: 摄像头}\n"
         "    attributes:\n      resolution: {type: enum, values: [720p, 1080p, 4k]}\n"
         "  Printer: {parent: Hardware")
    reg = load_registry(schema_copy)
    assert reg.class_info("Camera").attributes["resolution"].values == ("720p", "1080p", "4k")
    assert reg.resolve_class("摄像头") == "Camera"
    assert "Camera" in reg.descendants("Hardware")


@pytest.mark.parametrize(("file", "old", "new", "where"), [
    ("classes.yaml", "  Printer: {parent: Hardware", "  Printer: {parent: Hardwre",
     "classes.Printer.parent"),
    ("classes.yaml", "cpu_cores: {type: integer", "cpu_cores: {type: integr",
     "classes.Server.attributes.cpu_cores.type"),
    ("classes.yaml", "cpu_cores: {type: integer", "cpu_cores: {colour: red, type: integer",
     "classes.Server.attributes.cpu_cores.colour"),
    ("classes.yaml", "criticality: {type: enum, values: [low, medium, high, critical],",
     "criticality: {type: enum,", "classes.BusinessService.attributes.criticality"),
    ("relationships.yaml", "    to: [PowerDevice]", "    to: [PowerSupply]",
     "types.POWERED_BY.to"),
    ("relationships.yaml", "    propagation: redundancy", "    propagation: sometimes",
     "types.MEMBER_OF.propagation"),
    ("lifecycle.yaml", "  retired: [disposed, in_stock]", "  retired: [disposed, recycled]",
     "transitions.retired"),
    ("lifecycle.yaml", "initial: planned", "initial: dreamt", "initial"),
    ("classes.yaml", "aliases: [notebook, 笔记本]", "aliases: [notebook, 服务器]",
     "Laptop"),
    ("lifecycle.yaml", "in_use: true, tone: ok", "tone: ok", "states: no state is flagged in_use"),
    ("lifecycle.yaml", "retired: true, tone: muted", "retired: true, in_use: true",
     "states.retired.in_use: only one state"),
    ("lifecycle.yaml", "terminal: true, audited: false", "audited: false",
     "states: no state is flagged terminal"),
    ("lifecycle.yaml", "in_stock: true, tone: info", "in_stock: yes please",
     "states.in_stock.in_stock"),
    ("relationships.yaml", "    role: location", "    role: place", "types.LOCATED_IN.role"),
    ("relationships.yaml", "    role: owner", "    role: location",
     "types.OWNED_BY.role: role 'location' already belongs to LOCATED_IN"),
    ("relationships.yaml", "    role: instance_of", "", "types: no type has role: instance_of"),
    ("relationships.yaml", "    single: true\n    role: location", "    role: location",
     "types.LOCATED_IN.single"),
])
def test_bad_definition_names_file_and_entry(
    schema_copy: Path, file: str, old: str, new: str, where: str
) -> None:
    edit(schema_copy / file, old, new)
    with pytest.raises(SchemaDefinitionError) as exc:
        load_registry(schema_copy)
    assert exc.value.message.startswith(file), exc.value.message
    assert where in exc.value.message, exc.value.message


def test_broken_yaml_and_missing_file(schema_copy: Path) -> None:
    (schema_copy / "lifecycle.yaml").write_text("states: [unclosed", encoding="utf-8")
    with pytest.raises(SchemaDefinitionError, match=r"lifecycle\.yaml: not valid YAML"):
        load_registry(schema_copy)
    (schema_copy / "lifecycle.yaml").unlink()
    with pytest.raises(SchemaDefinitionError, match=r"lifecycle\.yaml: file is missing"):
        load_registry(schema_copy)


def test_states_and_types_by_meaning(registry: Registry) -> None:
    assert registry.location_type == "LOCATED_IN"
    assert registry.owner_type == "OWNED_BY"
    assert registry.terminal_states == {"disposed"}
    assert registry.disposed_state == "disposed"
    assert (registry.in_use_state, registry.in_stock_state) == ("deployed", "in_stock")
    assert (registry.retired_state, registry.lost_state) == ("retired", "lost")
    assert registry.states_where(missing=True) == ["lost", "stolen"]
    assert registry.states_where(audited=False) == [
        "planned", "ordered", "disposed", "lost", "stolen"]
    assert registry.out_of_service_states == {"retired", "disposed", "lost", "stolen"}
    assert registry.state_tone("deployed").value == "ok"
    assert registry.state_tone("no_such_state").value == "neutral"
    with pytest.raises(ValueError, match="not state flags: colour"):
        registry.states_where(colour=True)


def test_a_schema_from_before_the_flags_takes_the_shipped_meanings(schema_copy: Path) -> None:
    """A copy made before states had flags and types roles keeps working: states and
    types of the shipped names get the shipped meanings."""
    lifecycle = schema_copy / "lifecycle.yaml"
    text = re.sub(r",\s*(terminal|in_use|in_stock|retired|missing|audited|tone): \w+", "",
                  lifecycle.read_text(encoding="utf-8"))
    lifecycle.write_text(text, encoding="utf-8")
    relationships = schema_copy / "relationships.yaml"
    relationships.write_text(re.sub(r"\n    role: \w+", "", relationships.read_text(
        encoding="utf-8")), encoding="utf-8")
    assert "terminal: true" not in text
    old = load_registry(schema_copy)
    assert old.terminal_states == {"disposed"}
    assert old.in_use_state == "deployed"
    assert old.location_type == "LOCATED_IN"
    assert old.states_where(audited=False) == ["planned", "ordered", "disposed", "lost", "stolen"]
    # a copy that sets a flag anywhere is read as it is, and must say all it needs
    edit(lifecycle, "{label: {en: Planned, zh-CN: 计划中}, aliases: [plan, 规划, 计划]}",
         "{label: {en: Planned, zh-CN: 计划中}, aliases: [plan, 规划, 计划], tone: info}")
    with pytest.raises(SchemaDefinitionError, match="no state is flagged"):
        load_registry(schema_copy)
