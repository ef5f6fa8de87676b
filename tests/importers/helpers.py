"""Helpers shared by the importer tests."""

from __future__ import annotations

from pathlib import Path

from importers import Observation, ParseOptions, RecordError, get_importer

FIXTURES = Path(__file__).with_name("fixtures")
HOSTILE = FIXTURES / "hostile"


def run(
    name: str, path: Path, options: ParseOptions | None = None
) -> tuple[list[Observation], list[RecordError]]:
    """Parse ``path`` with importer ``name``; split observations from record errors."""
    observations: list[Observation] = []
    errors: list[RecordError] = []
    for record in get_importer(name).run(path, options=options):
        if isinstance(record, Observation):
            observations.append(record)
        else:
            errors.append(record)
    return observations, errors


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="资产" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
}


def shared_strings_bomb(path: Path, strings: int = 3000, length: int = 30_000) -> Path:
    """A small workbook whose shared strings expand to ``strings * length`` characters
    (3,000 x 30,000 = 90 MB from ~200 KB): each row names an asset with one of them.
    Written part by part, so making it costs no memory."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, text in _XLSX_PARTS.items():
            zf.writestr(name, text)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns='
                     b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     b"<si><t>\xe8\xb5\x84\xe4\xba\xa7\xe7\xbc\x96\xe5\x8f\xb7</t></si>"
                     b"<si><t>\xe5\x90\x8d\xe7\xa7\xb0</t></si>")
            filler = b"A" * length
            for i in range(strings):
                fh.write(b"<si><t>" + f"{i:06d}".encode() + filler + b"</t></si>")
            fh.write(b"</sst>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
                     b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
                     b'<c r="B1" t="s"><v>1</v></c></row>')
            for i in range(strings):
                r = i + 2
                fh.write(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>B-{i}</t></is></c>'
                         f'<c r="B{r}" t="s"><v>{i + 2}</v></c></row>'.encode())
            fh.write(b"</sheetData></worksheet>")
    return path


def _network(name: str, mac: str | None, virtual: bool, kind: str = "ethernet",
             ip: str | None = None, extra: str = "") -> str:
    """One <NETWORKS> entry as the FusionInventory/GLPI agent writes it on Linux."""
    lines = [f"      <DESCRIPTION>{name}</DESCRIPTION>"]
    if ip:
        subnet = ip.rsplit(".", 1)[0] + ".0"
        lines += [f"      <IPADDRESS>{ip}</IPADDRESS>", "      <IPMASK>255.255.255.0</IPMASK>",
                  f"      <IPSUBNET>{subnet}</IPSUBNET>"]
    if mac:
        lines.append(f"      <MACADDR>{mac}</MACADDR>")
    lines += [extra] if extra else []
    lines += ["      <STATUS>Up</STATUS>", f"      <TYPE>{kind}</TYPE>",
              f"      <VIRTUALDEV>{1 if virtual else 0}</VIRTUALDEV>"]
    return "    <NETWORKS>\n" + "\n".join(lines) + "\n    </NETWORKS>\n"


BOND_MAC = "b8:ca:3a:6e:41:02"  # a Dell server's onboard Broadcom NIC (universal)
BRIDGE_MAC = "b8:ca:3a:6e:41:04"
DOCKER_MAC = "02:42:5c:8e:1a:33"  # Docker's bridge: locally administered
VETH_MAC = "6a:1f:27:c4:9e:05"  # a container's veth: locally administered, random
VMWARE_MAC = "00:50:56:9a:3c:11"  # a VMware VM's vNIC: VMware's own OUI, universal


def agent_networks(tmp_path: Path, networks: str, name: str = "bonded.xml") -> Path:
    """The real agent inventory (glpi-vm.xml) with its NETWORKS entries replaced."""
    text = (FIXTURES / "glpi-vm.xml").read_text(encoding="utf-8")
    start = text.index("    <NETWORKS>")
    end = text.rindex("</NETWORKS>") + len("</NETWORKS>\n")
    path = tmp_path / name
    path.write_text(text[:start] + networks + text[end:], encoding="utf-8")
    return path


def bonded_server(tmp_path: Path) -> Path:
    """A physical server as the agent reports it: bond0 (VIRTUALDEV=1) over eth0 and eth1
    (its slaves carry its MAC), a VLAN on the bond, a bridge over eth2, Docker's bridge
    and a container's veth, and the loopback."""
    return agent_networks(tmp_path, "".join([
        _network("lo", "00:00:00:00:00:00", True, "loopback", "127.0.0.1"),
        _network("bond0", BOND_MAC, True, "aggregate", "10.20.1.15",
                 "      <SLAVES>eth0,eth1</SLAVES>"),
        _network("eth0", BOND_MAC, False, extra="      <DRIVER>tg3</DRIVER>"),
        _network("eth1", BOND_MAC, False, extra="      <DRIVER>tg3</DRIVER>"),
        _network("bond0.100", BOND_MAC, True, "ethernet", "10.100.0.15"),
        _network("eth2", BRIDGE_MAC, False, extra="      <DRIVER>tg3</DRIVER>"),
        _network("br0", BRIDGE_MAC, True, "bridge", "10.30.0.15"),
        _network("docker0", DOCKER_MAC, True, "bridge", "172.17.0.1"),
        _network("veth1a2b3c4", VETH_MAC, True),
    ]))


def vmware_vm(tmp_path: Path) -> Path:
    """A VMware VM as the agent reports it: one vNIC with a 00:50:56 MAC."""
    return agent_networks(tmp_path, "".join([
        _network("lo", "00:00:00:00:00:00", True, "loopback", "127.0.0.1"),
        _network("ens192", VMWARE_MAC, False, "ethernet", "10.20.3.41",
                 "      <DRIVER>vmxnet3</DRIVER>"),
    ]), "vmware-vm.xml")
