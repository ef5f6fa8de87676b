"""Manufacturer names as registers and agents write them, read through schema/vendors.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmdb.errors import SchemaDefinitionError
from cmdb.model.registry import DEFAULT_SCHEMA_DIR, load_registry

# What real registers, DMI tables (dmidecode / FusionInventory / OCS / lshw) and
# Chinese business licences call each vendor.
SPELLINGS = {
    "Dell": ["戴尔", "DELL", "Dell", "Dell Inc.", "Dell Inc", "Dell Computer Corporation",
             "Dell EMC", "ＤＥＬＬ", " dell  "],
    "HP": ["惠普", "HP", "Hewlett-Packard", "Hewlett Packard Enterprise", "HPE", "HP Inc.",
           "Hewlett-Packard Company", "惠普（中国）有限公司"],
    "Lenovo": ["联想", "LENOVO", "Lenovo", "联想（北京）有限公司", "Lenovo Group Limited"],
    "Huawei": ["华为", "Huawei Technologies Co., Ltd.", "HUAWEI", "华为技术有限公司"],
    "Inspur": ["浪潮", "Inspur", "Inspur Electronic Information Industry Co., Ltd.",
               "浪潮电子信息产业股份有限公司"],
    "H3C": ["新华三", "H3C", "New H3C Technologies Co., Ltd.", "新华三技术有限公司"],
    "Cisco": ["思科", "Cisco Systems, Inc.", "cisco"],
    "Sugon": ["曙光", "Sugon", "曙光信息产业股份有限公司", "中科曙光"],
    "ZTE": ["中兴", "ZTE", "ZTE Corporation", "中兴通讯股份有限公司"],
    "Epson": ["爱普生", "Seiko Epson Corporation", "EPSON"],
    "VMware": ["VMware, Inc.", "VMware"],
    "QEMU": ["QEMU"],
    "Supermicro": ["Supermicro", "Super Micro Computer, Inc."],
}


@pytest.mark.parametrize("vendor", sorted(SPELLINGS))
def test_every_spelling_names_one_vendor(vendor: str) -> None:
    vendors = load_registry().vendors
    for text in SPELLINGS[vendor]:
        found = vendors.canonical(text)
        assert found is not None, text
        assert found.name == vendor, text


def test_display_names_and_unknown_vendors() -> None:
    vendors = load_registry().vendors
    dell = vendors.canonical("Dell Inc.")
    assert dell is not None
    assert (dell.label.get("zh-CN"), dell.label.get("en")) == ("戴尔", "Dell")
    # A vendor the table does not know keeps its name (tidied), and matches nobody else.
    assert vendors.canonical("Acme Widgets Ltd") is None
    assert vendors.normalise("  Acme   Widgets Ltd ") == "Acme Widgets Ltd"
    assert vendors.normalise("Dell Inc.") == "Dell"
    # Two different vendors stay apart.
    assert vendors.normalise("HP") != vendors.normalise("HPC Systems")
    assert vendors.canonical("") is None


def test_users_add_aliases_without_code(tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    shutil.copytree(DEFAULT_SCHEMA_DIR, schema, ignore=shutil.ignore_patterns("*.graphql"))
    (schema / "vendors.yaml").write_text(
        "version: 1\nvendors:\n  Acme:\n    label: {en: Acme, zh-CN: 艾克米}\n"
        "    aliases: [Acme Widgets]\n", encoding="utf-8")
    vendors = load_registry(schema).vendors
    found = vendors.canonical("ACME WIDGETS CO., LTD.")
    assert found is not None
    assert found.name == "Acme"
    assert vendors.canonical("艾克米科技有限公司") == found


def test_an_alias_naming_two_vendors_is_refused(tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    shutil.copytree(DEFAULT_SCHEMA_DIR, schema, ignore=shutil.ignore_patterns("*.graphql"))
    (schema / "vendors.yaml").write_text(
        "version: 1\nvendors:\n  Dell: {label: {en: Dell}}\n"
        "  Other: {label: {en: Other}, aliases: [DELL Inc.]}\n", encoding="utf-8")
    with pytest.raises(SchemaDefinitionError, match="already names 'Dell'"):
        load_registry(schema)


def test_every_canonical_name_is_its_own_canonical_name() -> None:
    """What is stored reads back as itself: aligning twice changes nothing."""
    vendors = load_registry().vendors
    for name, vendor in vendors.vendors.items():
        assert vendors.normalise(name) == name
        assert vendors.normalise(vendor.label.en) == name
        if vendor.label.zh_cn:
            assert vendors.normalise(vendor.label.zh_cn) == name


MINE = """\
# The operator's own names, as CMDB_VENDORS_FILE names them.
vendors:
  Nettrix:
    label: {en: Nettrix, zh-CN: 宁畅}
    aliases: [宁畅信息产业, Nettrix Information Industry]
  Dell:
    aliases: [德尔]
  Powerleader: {}
"""


def test_an_operators_vendors_file_adds_to_the_table(tmp_path: Path) -> None:
    mine = tmp_path / "my-vendors.yaml"
    mine.write_text(MINE, encoding="utf-8")
    vendors = load_registry(vendors_file=mine).vendors
    assert vendors.normalise("德尔") == "Dell"
    assert vendors.normalise("Dell Inc.") == "Dell"  # the packaged aliases stay
    assert vendors.normalise("宁畅信息产业（北京）有限公司") == "Nettrix"
    assert vendors.normalise("POWERLEADER") == "Powerleader"
    assert vendors.vendors["Powerleader"].label.get("zh-CN") == "Powerleader"
    assert vendors.vendors["Dell"].label.get("zh-CN") == "戴尔"
    assert vendors.fingerprint != load_registry().vendors.fingerprint
    # Without the file, the names are unknown: kept as written.
    assert load_registry().vendors.normalise("德尔") == "德尔"


@pytest.mark.parametrize(("text", "message"), [
    ("vendors:\n  Other: {aliases: [HPE]}\n", "alias 'HPE' already names 'HP'"),
    ("vendors:\n  Other: {alias: [x]}\n", "vendors.Other.alias"),
    ("vendors: [Dell]\n", "vendors"),
])
def test_a_bad_vendors_file_is_refused_naming_it(tmp_path: Path, text: str,
                                                 message: str) -> None:
    mine = tmp_path / "my-vendors.yaml"
    mine.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaDefinitionError, match=message) as caught:
        load_registry(vendors_file=mine)
    assert caught.value.message.startswith("my-vendors.yaml")


def test_check_schema_reads_the_operators_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cmdb.cli.main import main

    mine = tmp_path / "my-vendors.yaml"
    mine.write_text(MINE, encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(main, ["check-schema", "--vendors-file", str(mine)])
    assert ok.exit_code == 0, ok.output
    packaged = len(load_registry().vendors.vendors)
    assert f"{packaged + 2} vendors: OK" in ok.output
    mine.write_text("vendors:\n  Other: {aliases: [戴尔]}\n", encoding="utf-8")
    bad = runner.invoke(main, ["check-schema"], env={"CMDB_VENDORS_FILE": str(mine)})
    assert bad.exit_code == 1
    assert "alias '戴尔' already names 'Dell'" in bad.output
