"""Which MAC addresses identify, on both stores: decided by the address, not by the
agent's virtual flag; the same rule when the register holds the MAC."""

from __future__ import annotations

from pathlib import Path

from cmdb.model.records import Actor
from cmdb.services import Cmdb
from tests.importers.helpers import (
    BOND_MAC,
    BRIDGE_MAC,
    DOCKER_MAC,
    VMWARE_MAC,
    bonded_server,
    vmware_vm,
)
from tests.services.imports.test_imports import by_tag, outcomes, run

REGISTER = f"""资产编号,名称,类别,MAC地址,位置,状态
BJ-0301,bj-k8s-01,服务器,{BOND_MAC.upper().replace(":", "-")},北京总部/3楼机房/A01机柜,在用
BJ-0302,bj-k8s-02,服务器, {DOCKER_MAC} ,北京总部/3楼机房/A01机柜,在用
BJ-0303,bj-k8s-03,服务器,{DOCKER_MAC},北京总部/3楼机房/A01机柜,在用
"""


async def test_a_bonded_server_is_found_by_its_bond_mac_once(
    cmdb: Cmdb, tmp_path: Path
) -> None:
    """The register names the bond's MAC (as Windows prints it) for one server, and two
    other servers share Docker's bridge MAC. The agent's bond0 is VIRTUALDEV=1: it is
    MATCHED by its MAC (bond and slaves one MAC), not AMBIGUOUS through the docker MAC,
    and not NEW."""
    sheet = tmp_path / "资产登记表.csv"
    sheet.write_bytes(REGISTER.encode("gb18030"))
    registered = await run(cmdb, "csv", sheet, create_places=True)
    # Two rows sharing a locally administered MAC are not one machine: both registered.
    assert registered.counts["NEW"] == 3
    k8s = await by_tag(cmdb, "BJ-0301")
    other = await by_tag(cmdb, "BJ-0302")
    assert other.attributes["mac_addresses"] == [DOCKER_MAC]  # kept as observed data
    result = await run(cmdb, "glpi", bonded_server(tmp_path))
    [out] = await outcomes(cmdb, result)
    assert (out["outcome"], out["ci_id"], out["matched_by"]) == (
        "MATCHED_WITH_DIFFERENCES", k8s.id, "mac_addresses")
    # What the agent saw: the bond's and the bridge's MACs, no container's (the register
    # set the list, and takes precedence: reported, not applied).
    macs = next(d for d in out["differences"] if d["field"] == "mac_addresses")
    assert (macs["registered"], macs["observed"]) == ([BOND_MAC], [BOND_MAC, BRIDGE_MAC])
    after = await by_tag(cmdb, "BJ-0301")
    assert "10.20.1.15" in after.attributes["ip_addresses"]  # the bond's address
    assert "172.17.0.1" not in after.attributes["ip_addresses"]
    # The health report does not call servers sharing Docker's MAC duplicates.
    report = await cmdb.health.report()
    assert not [g for g in report.duplicates if g.reason == "mac"]


async def test_a_vmware_mac_identifies_and_a_docker_mac_never_does(
    cmdb: Cmdb, actor: Actor, tmp_path: Path
) -> None:
    vm = await cmdb.cis.create(actor, {"class_name": "VirtualMachine", "name": "bj-vm-41",
                                       "attributes": {"mac_addresses": [VMWARE_MAC]}})
    [out] = await outcomes(cmdb, await run(cmdb, "glpi", vmware_vm(tmp_path), dry_run=True))
    assert (out["ci_id"], out["matched_by"]) == (vm.id, "mac_addresses")
    # A CI holding only Docker's MAC is never found by it (nor made ambiguous): not by
    # the agent, not by a register row naming the same MAC.
    await cmdb.cis.create(actor, {"class_name": "Server", "name": "docker-only",
                                  "attributes": {"mac_addresses": [DOCKER_MAC]}})
    [out] = await outcomes(cmdb, await run(cmdb, "glpi", bonded_server(tmp_path),
                                           dry_run=True))
    assert (out["outcome"], out["ci_id"]) == ("NEW", None)
    sheet = tmp_path / "容器.csv"
    sheet.write_text(f"名称,类别,MAC地址\n另一台容器主机,服务器,{DOCKER_MAC.upper()}\n",
                     encoding="utf-8")
    [out] = await outcomes(cmdb, await run(cmdb, "csv", sheet, dry_run=True))
    assert (out["outcome"], out["matched_by"], out["candidates"]) == ("NEW", None, [])
