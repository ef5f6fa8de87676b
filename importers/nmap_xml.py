"""Importer ``nmap``: ``nmap -oX`` XML, one discovery observation per host that is up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from importers.build import RecordBuilder
from importers.errors import ImportFileError, RecordError
from importers.models import Kind, Locator, NetworkInterface, Observation, Port
from importers.normalise import from_epoch
from importers.options import ParseOptions
from importers.xmlsafe import Node, Selector, iter_records

SOURCE: Final = "nmap"
KIND: Final[Kind] = "discovery"
DESCRIPTION: Final = "nmap XML output (nmap -oX): hosts, addresses, MAC vendor, OS, open ports"
PROTOCOLS = frozenset({"tcp", "udp", "sctp", "ip"})


def _selector(label: str) -> Selector:
    """Select ``<nmaprun><host>`` elements, refusing other root elements."""

    def wanted(path: tuple[str, ...]) -> bool:
        if len(path) == 1 and path[0] != "nmaprun":
            raise ImportFileError(
                "IMPORT_BAD_FILE",
                f"not nmap XML: root element is <{path[0]}>, expected <nmaprun>",
                file=label,
            )
        return path == ("nmaprun", "host")

    return wanted


def _ports(b: RecordBuilder, host: Node) -> None:
    """Add every open (or open|filtered) port with its service."""
    ports = host.find("ports")
    for port in ports.findall("port") if ports is not None else []:
        state = port.find("state")
        state_text = state.attrs.get("state", "") if state is not None else ""
        protocol = port.attrs.get("protocol", "")
        if not state_text.startswith("open") or protocol not in PROTOCOLS:
            continue
        number = port.attrs.get("portid", "")
        if not number.isdigit() or int(number) > 65535:
            b.error("ports", "bad port number", f"port {number}", number)
            continue
        service = port.find("service")
        info = service.attrs if service is not None else {}
        b.ports.append(
            Port(
                protocol=protocol,
                port=int(number),
                state=state_text,
                service=info.get("name"),
                product=info.get("product"),
                version=info.get("version"),
                extra_info=info.get("extrainfo"),
            )
        )


def _os(b: RecordBuilder, host: Node) -> None:
    """Take the most accurate OS match as ``os_name``; keep the top matches as attributes."""
    os_node = host.find("os")
    if os_node is None:
        return
    matches = sorted(
        os_node.findall("osmatch"),
        key=lambda m: -int(m.attrs.get("accuracy", "0") or 0),
    )
    if not matches:
        return
    best = matches[0]
    b.text("os_name", best.attrs.get("name"))
    osclass = best.find("osclass")
    if osclass is not None:
        b.attribute("os_family", osclass.attrs.get("osfamily"))
        b.attribute("os_generation", osclass.attrs.get("osgen"))
        b.attribute("os_vendor", osclass.attrs.get("vendor"))
    b.attribute("os_accuracy", int(best.attrs.get("accuracy", "0") or 0))
    b.attribute("os_matches", [m.attrs.get("name", "") for m in matches[:5]])


def _host(b: RecordBuilder, host: Node) -> None:
    """Fill the builder from one ``<host>`` element."""
    mac_vendor: str | None = None
    mac: str | None = None
    for address in host.findall("address"):
        kind = address.attrs.get("addrtype")
        addr = address.attrs.get("addr")
        if kind in ("ipv4", "ipv6"):
            b.ip(addr, f"address {kind}")
        elif kind == "mac":
            mac = b.mac(addr, "address mac")
            mac_vendor = address.attrs.get("vendor")
    if mac is not None:
        b.interfaces.append(NetworkInterface(mac=mac, ip_addresses=list(b.ips), vendor=mac_vendor))
        b.attribute("mac_vendor", mac_vendor)
    names = host.find("hostnames")
    for hn in names.findall("hostname") if names is not None else []:
        name = hn.attrs.get("name", "")
        b.hostname(name)
        if "." in name and not b.placeholders.is_placeholder("hostname", name):
            b.text("fqdn", name)
    _ports(b, host)
    _os(b, host)
    when = host.attrs.get("endtime") or host.attrs.get("starttime")
    if when and when.isdigit():
        b.values["seen_at"] = from_epoch(when)


def _parse(path: Path, options: ParseOptions) -> Iterator[Observation | RecordError]:
    """Stream hosts out of an nmap XML file."""
    label = options.label_for(path)
    records = iter_records(
        path,
        _selector(label),
        label=label,
        max_bytes=options.max_xml_bytes,
        max_depth=options.max_xml_depth,
        max_text=options.max_field_chars,
    )
    for number, (_, host) in enumerate(records, start=1):
        status = host.find("status")
        if status is not None and status.attrs.get("state") != "up":
            continue
        locator = Locator(file=label, line=host.line, record=number)
        b = RecordBuilder(SOURCE, KIND, locator, options.placeholders)
        _host(b, host)
        yield from b.finish()


def parse(
    path: Path, *, options: ParseOptions | None = None
) -> Iterator[Observation | RecordError]:
    """Parse nmap XML lazily: one observation (or RecordErrors) per host that is up."""
    return _parse(path, options or ParseOptions())
