"""Outputs of the real tools (nmap, lshw, FusionInventory/GLPI agent, OCS agent) in ``fixtures/``.

The fixtures were produced on a Debian 12 VM (see ``fixtures/README.md``); the
expected values below were read from those files.
"""

from __future__ import annotations

from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path

from importers import NetworkInterface, Port, Software

from .helpers import (
    BOND_MAC,
    BRIDGE_MAC,
    DOCKER_MAC,
    FIXTURES,
    VETH_MAC,
    VMWARE_MAC,
    bonded_server,
    run,
    vmware_vm,
)


def test_nmap_ipv4_with_os_and_service() -> None:
    obs, errors = run("nmap", FIXTURES / "nmap-localhost-v4.xml")
    assert errors == []
    (host,) = obs
    assert host.kind == "discovery"
    assert (host.locator.line, host.locator.record) == (9, 1)
    assert host.ip_addresses == [ip_address("127.0.0.1")]
    assert host.hostnames == []  # "localhost" is a placeholder, flagged
    assert [(f.field, f.value) for f in host.flags] == [("hostnames", "localhost")]
    assert host.ports == [
        Port(
            protocol="tcp",
            port=8080,
            service="http",
            product="SimpleHTTPServer",
            version="0.6",
            extra_info="Python 3.11.7",
        )
    ]
    assert host.os_name == "Linux 5.0 - 5.2"
    assert host.attributes["os_accuracy"] == 97
    assert host.attributes["os_family"] == "Linux"
    assert host.seen_at == datetime.fromtimestamp(1795579914, tz=UTC)


def test_nmap_ipv6() -> None:
    obs, _ = run("nmap", FIXTURES / "nmap-localhost-v6.xml")
    (host,) = obs
    assert host.ip_addresses == [ip_address("::1")]
    assert [(p.port, p.service) for p in host.ports] == [(8443, "http")]


def test_nmap_mac_and_vendor(tmp_path: Path) -> None:
    """A LAN scan adds a MAC address line; derived from the real file (we scan loopback only)."""
    text = (FIXTURES / "nmap-localhost-v4.xml").read_text(encoding="utf-8")
    text = text.replace(
        '<address addr="127.0.0.1" addrtype="ipv4"/>',
        '<address addr="127.0.0.1" addrtype="ipv4"/>\n'
        '<address addr="3C:D9:2B:11:22:33" addrtype="mac" vendor="Hewlett Packard"/>',
    )
    path = tmp_path / "lan.xml"
    path.write_text(text, encoding="utf-8")
    (host,), _ = run("nmap", path)
    assert host.mac_addresses == ["3c:d9:2b:11:22:33"]
    assert host.attributes["mac_vendor"] == "Hewlett Packard"
    assert host.manufacturer is None
    assert host.interfaces[0].vendor == "Hewlett Packard"


def test_glpi_vm_inventory() -> None:
    obs, errors = run("glpi", FIXTURES / "glpi-vm.xml")
    assert errors == []
    (inv,) = obs
    assert inv.kind == "inventory"
    assert inv.serial_number is None  # <BIOS><SSN></SSN></BIOS> on this VM
    assert inv.name == "vm"
    assert inv.hostnames == ["vm"]
    assert inv.os_name == "Debian GNU/Linux 12 (bookworm)"
    assert inv.os_version == "12.11"
    # eth0's MAC is locally administered (a firecracker VM's): kept, never identifying;
    # ifb0/ifb1 (VIRTUALDEV=1) have locally administered MACs too, lo none
    assert inv.mac_addresses == ["02:fc:00:00:00:01"]
    assert ("mac_addresses", "NOT_IDENTIFYING", "02:fc:00:00:00:01") in [
        (f.field, f.code, f.value) for f in inv.flags]
    assert inv.ip_addresses == [ip_address("192.0.2.2"), ip_address("fd00::2")]
    eth0 = next(i for i in inv.interfaces if i.name == "eth0")
    assert eth0.virtual is False
    assert ip_address("fe80::fc:ff:fe00:1") in eth0.ip_addresses
    assert NetworkInterface(name="ifb0", mac="a6:cf:aa:d8:a5:64", virtual=True) in inv.interfaces
    assert not any(i.identifying for i in inv.interfaces)
    assert len(inv.software) == 20
    assert inv.software[0] == Software(name="adduser", version="3.134", publisher="Debian")
    assert inv.attributes["vm_system"] == "Docker"
    assert inv.attributes["memory_mb"] == 24105
    assert inv.attributes["device_id"] == "vm-2026-11-25-04-10-46"
    assert inv.seen_at == datetime(2026, 11, 25, 4, 10, 46)


def test_glpi_physical_bios_fields(tmp_path: Path) -> None:
    """BIOS data as dmidecode gives it on hardware, inserted into the real VM file."""
    text = (FIXTURES / "glpi-vm.xml").read_text(encoding="utf-8")
    bios = (
        "<BIOS>\n      <ASSETTAG>BJ-0002</ASSETTAG>\n      <BMANUFACTURER>HP</BMANUFACTURER>\n"
        "      <MSN>To be filled by O.E.M.</MSN>\n      <SMANUFACTURER>HP</SMANUFACTURER>\n"
        "      <SMODEL>ProLiant DL380 Gen10</SMODEL>\n      <SSN>CZJ12345AB</SSN>\n    </BIOS>"
    )
    text = text.replace("<BIOS>\n      <SSN></SSN>\n    </BIOS>", bios)
    path = tmp_path / "physical.xml"
    path.write_text(text, encoding="utf-8")
    (inv,), _ = run("glpi", path)
    assert (inv.serial_number, inv.asset_tag) == ("CZJ12345AB", "BJ-0002")
    assert (inv.manufacturer, inv.model) == ("HP", "ProLiant DL380 Gen10")
    assert "motherboard_serial" not in inv.attributes


def test_ocs_vm_inventory() -> None:
    obs, errors = run("ocs", FIXTURES / "ocs-vm.ocs")
    assert errors == []
    (inv,) = obs
    assert inv.source == "ocs"
    assert inv.serial_number is None  # empty <BIOS> on this VM
    assert inv.name == "vm"
    assert inv.os_name == "Debian GNU/Linux 12"
    assert inv.os_version == "12"
    assert "02:fc:00:00:00:01" in inv.mac_addresses
    assert inv.ip_addresses == [ip_address("192.0.2.2")]
    assert inv.software[2] == Software(
        name="alsa-topology-conf", version="1.2.5.1-2", publisher="https://www.alsa-project.org/"
    )
    assert inv.attributes["workgroup"] == "WORKGROUP"


def test_lshw_vm() -> None:
    obs, errors = run("lshw", FIXTURES / "lshw-vm.json")
    assert errors == []
    (inv,) = obs
    assert inv.name == "vm"
    assert inv.serial_number is None
    assert inv.mac_addresses == ["02:fc:00:00:00:01"]
    assert inv.ip_addresses == [ip_address("192.0.2.2")]
    assert inv.interfaces[0].name == "eth0"
    assert inv.interfaces[0].vendor is None
    assert inv.attributes["cpu"] == "AMD EPYC"
    assert inv.attributes["memory_bytes"] == 25769803776


def test_lshw_array_form_and_placeholder_serial(tmp_path: Path) -> None:
    """Newer lshw wraps the tree in a list; DMI on cheap boards says 'To be filled by O.E.M.'."""
    text = (FIXTURES / "lshw-vm.json").read_text(encoding="utf-8")
    text = text.replace('"description" : "Computer",', '"serial" : "To be filled by O.E.M.",', 1)
    path = tmp_path / "array.json"
    path.write_text("[" + text + "]", encoding="utf-8")
    (inv,), _ = run("lshw", path)
    assert inv.serial_number is None
    assert [(f.field, f.code) for f in inv.flags] == [
        ("serial_number", "PLACEHOLDER"), ("mac_addresses", "NOT_IDENTIFYING")]


def test_glpi_macs_identify_by_the_address_not_the_virtual_flag(tmp_path: Path) -> None:
    """A bond, its VLAN and a bridge are VIRTUALDEV=1 but carry the physical NICs' MACs:
    they identify (once each, however many interfaces carry them) and their addresses
    are the server's; Docker's bridge and a veth have locally administered MACs: kept on
    their interfaces, marked, never in the identifying list."""
    (inv,), errors = run("glpi", bonded_server(tmp_path))
    assert errors == []
    assert inv.mac_addresses == [BOND_MAC, BRIDGE_MAC]
    assert inv.ip_addresses == [ip_address("10.20.1.15"), ip_address("10.100.0.15"),
                                ip_address("10.30.0.15")]
    by_name = {i.name: i for i in inv.interfaces}
    assert (by_name["bond0"].virtual, by_name["bond0"].identifying) == (True, True)
    assert by_name["eth0"].mac == by_name["bond0"].mac
    assert (by_name["docker0"].mac, by_name["docker0"].identifying) == (DOCKER_MAC, False)
    assert (by_name["veth1a2b3c4"].mac, by_name["veth1a2b3c4"].identifying) == (VETH_MAC,
                                                                                 False)
    assert by_name["lo"].mac is None  # 00:00:00:00:00:00 is a placeholder
    assert not [f for f in inv.flags if f.field == "mac_addresses"]
    (vm,), _ = run("glpi", vmware_vm(tmp_path))
    assert vm.mac_addresses == [VMWARE_MAC]  # VMware's OUI is universally administered
    assert vm.interfaces[-1].identifying is True
