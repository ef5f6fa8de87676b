"""Shared parser of agent XML inventories (GLPI/FusionInventory and OCS Inventory).

Both write ``<REQUEST><CONTENT>`` with sections (BIOS, HARDWARE, NETWORKS,
OPERATINGSYSTEM, SOFTWARES…) describing one computer, so each file yields one
observation.  Sections are streamed; unused ones are dropped as they end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from importers.build import RecordBuilder
from importers.errors import ImportFileError, RecordError, preview
from importers.models import Flag, IPAddress, Locator, NetworkInterface, Observation, Software
from importers.normalise import is_identifying_ip, normalise_mac, parse_ip
from importers.options import ParseOptions
from importers.xmlsafe import Node, Selector, iter_records

KEEP = frozenset(
    {"BIOS", "HARDWARE", "OPERATINGSYSTEM", "NETWORKS", "ACCESSLOG", "CPUS", "ACCOUNTINFO"}
)


def _selector(label: str) -> Selector:
    """Build the tag-path selector: top-level leaves and every CONTENT section."""

    def wanted(path: tuple[str, ...]) -> bool:
        if len(path) == 1 and path[0] != "REQUEST":
            raise ImportFileError(
                "IMPORT_BAD_FILE",
                f"not an agent inventory: root element is <{path[0]}>, expected <REQUEST>",
                file=label,
            )
        if len(path) == 2:
            return path[1] != "CONTENT"
        return len(path) == 3 and path[1] == "CONTENT"

    return wanted


def _first(sections: dict[str, list[Node]], section: str, tag: str) -> str | None:
    """Return the first non-blank ``<section><tag>`` text."""
    for node in sections.get(section, []):
        value = node.findtext(tag)
        if value:
            return value
    return None


def _interfaces(b: RecordBuilder, nodes: list[Node]) -> None:
    """Merge NETWORKS entries (one per address) into interfaces; fill MACs and IPs.

    Which MACs identify is decided by the address, not by ``VIRTUALDEV``: a bond, a
    bridge or a VLAN interface is flagged virtual but carries its physical NIC's MAC
    (listed once however many interfaces carry it). A MAC that does not identify is
    kept, flagged, when the agent calls its interface physical (a VM's own NIC); a
    virtual interface's (a container's veth, Docker's bridge) stays on the interface,
    marked there, so that they do not churn the CI's list."""
    merged: dict[tuple[str | None, str | None], tuple[list[IPAddress], bool | None]] = {}
    for node in nodes:
        name = node.findtext("DESCRIPTION")
        raw_mac = node.findtext("MACADDR")
        mac: str | None = None
        if raw_mac and not b.placeholders.is_placeholder("mac_address", raw_mac):
            try:
                mac = normalise_mac(raw_mac)
            except ValueError:
                b.flags.append(
                    Flag(field="mac_addresses", code="INVALID_IGNORED", value=preview(raw_mac))
                )
        virtual_text = node.findtext("VIRTUALDEV")
        virtual = None if virtual_text is None else virtual_text == "1"
        if node.findtext("TYPE") == "loopback":
            virtual = True
        ips, _ = merged.setdefault((name, mac), ([], virtual))
        for tag in ("IPADDRESS", "IPADDRESS6"):
            text = node.findtext(tag)
            if not text:
                continue
            try:
                ips.append(parse_ip(text))
            except ValueError:
                b.flags.append(
                    Flag(field="ip_addresses", code="INVALID_IGNORED", value=preview(text))
                )
    for (name, mac), (ips, virtual) in merged.items():
        interface = NetworkInterface(name=name, mac=mac, ip_addresses=ips, virtual=virtual)
        b.interfaces.append(interface)
        if interface.identifying or (mac is not None and not virtual):
            b.mac(mac)
        # The machine's addresses: those of an interface with an identifying MAC (a bond
        # carries the server's address, its slaves none) or one the agent does not call
        # virtual (a VM's own NIC); not a container's bridge or veth, not the loopback.
        if interface.identifying or not virtual:
            b.ips.extend(ip for ip in ips if is_identifying_ip(ip))


def _software(node: Node) -> Software | None:
    """Convert one SOFTWARES section to a Software entry (``None`` when it has no name)."""
    name = node.findtext("NAME")
    if not name:
        return None
    return Software(
        name=name, version=node.findtext("VERSION"), publisher=node.findtext("PUBLISHER")
    )


def _fill(b: RecordBuilder, top: dict[str, str], sections: dict[str, list[Node]]) -> None:
    """Map the kept sections onto observation fields and attributes."""

    def get(section: str, tag: str) -> str | None:
        return _first(sections, section, tag)

    b.text("serial_number", get("BIOS", "SSN"))
    for tag in ("SMANUFACTURER", "MMANUFACTURER"):
        b.text("manufacturer", get("BIOS", tag))
    for tag in ("SMODEL", "MMODEL"):
        b.text("model", get("BIOS", tag))
    b.text("asset_tag", get("BIOS", "ASSETTAG"))
    b.text("class_hint", get("HARDWARE", "CHASSIS_TYPE") or get("BIOS", "TYPE"))
    b.text("system_uuid", get("HARDWARE", "UUID"))
    name = get("HARDWARE", "NAME")
    b.text("name", name)
    b.hostname(name)
    fqdn = get("OPERATINGSYSTEM", "FQDN")
    domain = get("OPERATINGSYSTEM", "DNS_DOMAIN")
    if fqdn and "." not in fqdn and domain:
        fqdn = f"{fqdn}.{domain}"
    if fqdn and "." in fqdn:
        b.text("fqdn", fqdn)
        b.hostname(fqdn.split(".", 1)[0])
    b.text("os_name", get("OPERATINGSYSTEM", "FULL_NAME") or get("HARDWARE", "OSNAME"))
    b.text("os_version", get("OPERATINGSYSTEM", "VERSION") or get("HARDWARE", "OSVERSION"))
    b.when("seen_at", get("ACCESSLOG", "LOGDATE"), "ACCESSLOG/LOGDATE")
    _interfaces(b, sections.get("NETWORKS", []))
    memory = get("HARDWARE", "MEMORY")
    if memory and memory.isdigit():
        b.attribute("memory_mb", int(memory))
    msn = get("BIOS", "MSN")
    if msn and not b.placeholders.is_placeholder("serial_number", msn):
        b.attribute("motherboard_serial", msn)
    for key, section, tag in (
        ("device_id", "", "DEVICEID"),
        ("vm_system", "HARDWARE", "VMSYSTEM"),
        ("cpu", "CPUS", "NAME"),
        ("cpu", "HARDWARE", "PROCESSORT"),
        ("bios_vendor", "BIOS", "BMANUFACTURER"),
        ("bios_version", "BIOS", "BVERSION"),
        ("bios_date", "BIOS", "BDATE"),
        ("workgroup", "HARDWARE", "WORKGROUP"),
        ("last_logged_user", "HARDWARE", "LASTLOGGEDUSER"),
        ("os_kernel", "OPERATINGSYSTEM", "KERNEL_VERSION"),
        ("os_arch", "OPERATINGSYSTEM", "ARCH"),
        ("agent_version", "", "VERSIONCLIENT"),
    ):
        b.attribute(key, top.get(tag) if not section else get(section, tag))
    for info in sections.get("ACCOUNTINFO", []):
        if info.findtext("KEYNAME") == "TAG":
            b.attribute("ocs_tag", info.findtext("KEYVALUE"))


def parse_agent(
    source: str, path: Path, options: ParseOptions
) -> Iterator[Observation | RecordError]:
    """Parse one GLPI/OCS inventory file into one observation (or its RecordErrors)."""
    label = options.label_for(path)
    top: dict[str, str] = {}
    sections: dict[str, list[Node]] = {}
    software: list[Software] = []
    records = iter_records(
        path,
        _selector(label),
        label=label,
        max_bytes=options.max_xml_bytes,
        max_depth=options.max_xml_depth,
        max_text=options.max_field_chars,
    )
    for tags, node in records:
        if len(tags) == 2:
            top[node.tag] = node.text
        elif node.tag == "SOFTWARES":
            entry = _software(node)
            if entry is not None:
                software.append(entry)
        elif node.tag in KEEP:
            sections.setdefault(node.tag, []).append(node)
    if not sections and not top:
        raise ImportFileError(
            "IMPORT_BAD_FILE", "no <CONTENT> sections: empty inventory", file=label
        )
    b = RecordBuilder(source, "inventory", Locator(file=label, record=1), options.placeholders,
                      zone=options.zone)
    _fill(b, top, sections)
    b.software.extend(software)
    yield from b.finish()
