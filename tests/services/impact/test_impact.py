"""Impact analysis on every store. Each test draws its topology in its docstring, and
the graph is built from that very drawing."""

from __future__ import annotations

import pytest

from cmdb.errors import LimitExceededError, NotFoundError, RelationshipRuleError
from cmdb.model.records import CI
from cmdb.services import Cmdb
from cmdb.services.impact.graph import Status
from cmdb.services.impact.service import ImpactKind, ImpactReport
from tests.services.conftest import Build


def statuses(report: ImpactReport) -> dict[str, tuple[str, int]]:
    return {i.ci.name: (i.status.name, i.depth) for i in report.impacted}


async def test_chain(cmdb: Cmdb, build: Build) -> None:
    """[APP] -RUNS_ON-> [VM] -HOSTED_ON-> [HOST1] -POWERED_BY-> [PDU]"""
    g = await build(test_chain.__doc__ or "")
    report = await cmdb.impact.impact([g["PDU"].id])
    assert statuses(report) == {"HOST1": ("DOWN", 1), "VM": ("DOWN", 2), "APP": ("DOWN", 3)}
    app = next(i for i in report.impacted if i.ci.name == "APP")
    assert [(g_name(g, s.source_id), s.type, g_name(g, s.target_id)) for s in app.path] == [
        ("HOST1", "POWERED_BY", "PDU"), ("VM", "HOSTED_ON", "HOST1"), ("APP", "RUNS_ON", "VM")]
    assert not report.truncated
    assert report.kind is ImpactKind.OUTAGE


def g_name(g: dict[str, CI], ci_id: str) -> str:
    return next(n for n, c in g.items() if c.id == ci_id)


async def test_diamond_counts_once_at_shortest_depth(cmdb: Cmdb, build: Build) -> None:
    """[SVC] -DEPENDS_ON-> [APP1], [SVC] -DEPENDS_ON-> [APP2], [APP1] -DEPENDS_ON-> [DB],
    [APP2] -DEPENDS_ON-> [APP3], [APP3] -DEPENDS_ON-> [DB]"""
    g = await build(test_diamond_counts_once_at_shortest_depth.__doc__ or "")
    report = await cmdb.impact.impact([g["DB"].id])
    assert statuses(report) == {"APP1": ("DOWN", 1), "APP3": ("DOWN", 1),
                                "APP2": ("DOWN", 2), "SVC": ("DOWN", 2)}
    assert [s.ci.name for s in report.services] == ["SVC"]


async def test_cycle_does_not_loop(cmdb: Cmdb, build: Build) -> None:
    """[APP1] -DEPENDS_ON-> [APP2], [APP2] -DEPENDS_ON-> [APP3], [APP3] -DEPENDS_ON-> [APP1],
    [SVC] -DEPENDS_ON-> [APP3]"""
    g = await build(test_cycle_does_not_loop.__doc__ or "")
    report = await cmdb.impact.impact([g["APP1"].id], max_depth=25)
    assert statuses(report) == {"APP3": ("DOWN", 1), "APP2": ("DOWN", 2), "SVC": ("DOWN", 2)}


async def test_k_of_n_on_the_edge(cmdb: Cmdb, build: Build) -> None:
    """[HOST1] -MEMBER_OF-> [CL2], [HOST2] -MEMBER_OF-> [CL2], [HOST3] -MEMBER_OF-> [CL2],
    [VM] -HOSTED_ON-> [CL2], [APP] -RUNS_ON-> [VM], [SVC] -DEPENDS_ON-> [APP]"""
    g = await build(test_k_of_n_on_the_edge.__doc__ or "")
    one = await cmdb.impact.impact([g["HOST1"].id])
    assert statuses(one) == {"CL2": ("DEGRADED", 1), "VM": ("DEGRADED", 2),
                             "APP": ("DEGRADED", 3), "SVC": ("DEGRADED", 4)}
    assert [(s.ci.name, s.status) for s in one.services] == [("SVC", Status.DEGRADED)]
    two = await cmdb.impact.impact([g["HOST1"].id, g["HOST2"].id])
    assert statuses(two)["CL2"] == ("DOWN", 1)
    assert statuses(two)["SVC"] == ("DOWN", 4)


async def test_reached_both_ways_is_down(cmdb: Cmdb, build: Build) -> None:
    """[HOST1] -MEMBER_OF-> [CL1], [HOST2] -MEMBER_OF-> [CL1], [APP] -RUNS_ON-> [CL1],
    [HOST1] -POWERED_BY-> [PDU], [APP] -DEPENDS_ON-> [DB], [DB] -RUNS_ON-> [HOST1]"""
    g = await build(test_reached_both_ways_is_down.__doc__ or "")
    report = await cmdb.impact.impact([g["PDU"].id])
    assert statuses(report)["CL1"] == ("DEGRADED", 2)
    assert statuses(report)["APP"] == ("DOWN", 3)


def chain(g: dict[str, CI], report: ImpactReport, name: str) -> list[str]:
    """The explanation of ``name`` as the CIs the failure passes, from the changed one."""
    item = next(i for i in report.impacted if i.ci.name == name)
    names = [g_name(g, item.path[0].target_id if item.path[0].type != "MEMBER_OF"
                    else item.path[0].source_id)] if item.path else []
    for step in item.path:
        names.append(g_name(g, step.source_id if step.type != "MEMBER_OF" else step.target_id))
    return names


async def test_explanations_pass_only_through_impacted_cis(cmdb: Cmdb, build: Build) -> None:
    """[SW1] -MEMBER_OF-> [CL1], [SW2] -MEMBER_OF-> [CL1], [HOST1] -DEPENDS_ON-> [CL1],
    [HOST1] -MEMBER_OF-> [CL2], [HOST2] -MEMBER_OF-> [CL2], [HOST3] -MEMBER_OF-> [CL2],
    [VM] -HOSTED_ON-> [CL2], [APP1] -RUNS_ON-> [VM], [SVC] -DEPENDS_ON-> [APP1],
    [HOST4] -DEPENDS_ON-> [CL1], [APP4] -RUNS_ON-> [HOST4], [APP3] -DEPENDS_ON-> [APP4],
    [APP2] -DEPENDS_ON-> [APP3], [APP5] -DEPENDS_ON-> [APP2], [SVC] -DEPENDS_ON-> [APP5]"""
    g = await build(test_explanations_pass_only_through_impacted_cis.__doc__ or "")
    report = await cmdb.impact.impact([g["SW1"].id])
    # HOST1 is DEGRADED (its pair lost one of two), so the 2-of-3 cluster CL2 is not hit
    assert statuses(report) == {
        "CL1": ("DEGRADED", 1), "HOST1": ("DEGRADED", 2), "HOST4": ("DEGRADED", 2),
        "APP4": ("DEGRADED", 3), "APP3": ("DEGRADED", 4), "APP2": ("DEGRADED", 5),
        "APP5": ("DEGRADED", 6), "SVC": ("DEGRADED", 7)}
    assert chain(g, report, "SVC") == [
        "SW1", "CL1", "HOST4", "APP4", "APP3", "APP2", "APP5", "SVC"]
    # both switches lost: the pair is DOWN, HOST1 is lost, the cluster keeps 2 of 3
    both = await cmdb.impact.impact([g["SW1"].id, g["SW2"].id])
    assert statuses(both)["CL2"] == ("DEGRADED", 3)
    assert statuses(both)["SVC"] == ("DOWN", 7)
    assert chain(g, both, "SVC")[-3:] == ["APP2", "APP5", "SVC"]


async def test_the_worst_status_is_explained(cmdb: Cmdb, build: Build) -> None:
    """[HOST1] -MEMBER_OF-> [CL1], [HOST2] -MEMBER_OF-> [CL1], [APP] -RUNS_ON-> [CL1],
    [HOST1] -POWERED_BY-> [PDU], [DB] -RUNS_ON-> [HOST1], [DB2] -DEPENDS_ON-> [DB],
    [DB3] -DEPENDS_ON-> [DB2], [APP] -DEPENDS_ON-> [DB3]"""
    g = await build(test_the_worst_status_is_explained.__doc__ or "")
    report = await cmdb.impact.impact([g["PDU"].id])
    # DEGRADED through the cluster in 3 steps, DOWN through the databases in 5:
    # the DOWN chain explains it
    assert statuses(report)["APP"] == ("DOWN", 5)
    assert chain(g, report, "APP") == ["PDU", "HOST1", "DB", "DB2", "DB3", "APP"]


async def test_depth_limit_applies_to_the_real_chain(cmdb: Cmdb, build: Build) -> None:
    """[SW1] -MEMBER_OF-> [CL1], [SW2] -MEMBER_OF-> [CL1], [HOST1] -DEPENDS_ON-> [CL1],
    [HOST1] -MEMBER_OF-> [CL2], [HOST2] -MEMBER_OF-> [CL2], [VM] -HOSTED_ON-> [CL2],
    [HOST3] -DEPENDS_ON-> [CL1], [APP3] -RUNS_ON-> [HOST3], [APP2] -DEPENDS_ON-> [APP3],
    [VM] -DEPENDS_ON-> [APP2]"""
    g = await build(test_depth_limit_applies_to_the_real_chain.__doc__ or "")
    # VM is 4 relationships from SW1 in the graph, but the failure takes 5 to get there
    report = await cmdb.impact.impact([g["SW1"].id], max_depth=4)
    assert "VM" not in statuses(report)
    assert report.truncated
    deeper = await cmdb.impact.impact([g["SW1"].id], max_depth=5)
    assert statuses(deeper)["VM"] == ("DEGRADED", 5)


async def test_type_filter_and_non_propagating_types(cmdb: Cmdb, build: Build) -> None:
    """[APP] -RUNS_ON-> [VM], [VM] -HOSTED_ON-> [HOST1], [APP] -OWNED_BY-> [ANN],
    [APP] -LICENSED_BY-> [LIC]"""
    g = await build(test_type_filter_and_non_propagating_types.__doc__ or "")
    only = await cmdb.impact.impact([g["HOST1"].id], relationship_types=["HOSTED_ON"])
    assert statuses(only) == {"VM": ("DOWN", 1)}
    assert statuses(await cmdb.impact.impact([g["ANN"].id])) == {}
    assert statuses(await cmdb.impact.impact([g["LIC"].id])) == {}
    with pytest.raises(RelationshipRuleError):
        await cmdb.impact.impact([g["HOST1"].id], relationship_types=["LIKES"])


async def test_depth_truncation(cmdb: Cmdb, build: Build) -> None:
    """[APP1] -DEPENDS_ON-> [APP2], [APP2] -DEPENDS_ON-> [APP3], [APP3] -DEPENDS_ON-> [DB]"""
    g = await build(test_depth_truncation.__doc__ or "")
    cut = await cmdb.impact.impact([g["DB"].id], max_depth=2)
    assert statuses(cut) == {"APP3": ("DOWN", 1), "APP2": ("DOWN", 2)}
    assert cut.truncated
    full = await cmdb.impact.impact([g["DB"].id], max_depth=3)
    assert not full.truncated
    assert len(full.impacted) == 3
    with pytest.raises(LimitExceededError):
        await cmdb.impact.impact([g["DB"].id], max_depth=99)


async def test_several_changed_cis_and_maintenance(cmdb: Cmdb, build: Build) -> None:
    """[APP1] -RUNS_ON-> [VM1], [APP2] -RUNS_ON-> [VM2], [SVC] -DEPENDS_ON-> [APP1],
    [SVC] -DEPENDS_ON-> [APP2]"""
    g = await build(test_several_changed_cis_and_maintenance.__doc__ or "")
    report = await cmdb.impact.impact([g["VM1"].id, g["VM2"].id], ImpactKind.MAINTENANCE)
    assert statuses(report) == {"APP1": ("DOWN", 1), "APP2": ("DOWN", 1), "SVC": ("DOWN", 2)}
    assert report.planned
    assert [c.name for c in report.changed] == ["VM1", "VM2"]


async def test_owners_to_notify(cmdb: Cmdb, build: Build) -> None:
    """[APP] -RUNS_ON-> [VM], [APP] -OWNED_BY-> [ANN], [VM] -MANAGED_BY-> [OPS],
    [APP] -MANAGED_BY-> [OPS]"""
    g = await build(test_owners_to_notify.__doc__ or "")
    report = await cmdb.impact.impact([g["VM"].id])
    notify = {n.party.name: (n.roles, sorted(c.name for c in n.cis)) for n in report.notify}
    assert notify == {"OPS": (["MANAGED_BY"], ["APP", "VM"]), "ANN": (["OWNED_BY"], ["APP"])}


async def test_spof_with_and_without_redundancy(cmdb: Cmdb, build: Build) -> None:
    """[SVC] -DEPENDS_ON-> [APP], [APP] -RUNS_ON-> [VM], [VM] -HOSTED_ON-> [CL1],
    [HOST1] -MEMBER_OF-> [CL1], [HOST2] -MEMBER_OF-> [CL1], [HOST1] -POWERED_BY-> [PDU],
    [HOST2] -POWERED_BY-> [PDU], [APP] -DEPENDS_ON-> [DB]"""
    g = await build(test_spof_with_and_without_redundancy.__doc__ or "")
    spofs = await cmdb.impact.single_points_of_failure(g["SVC"].id)
    assert [(s.ci.name, s.depth) for s in spofs] == [
        ("APP", 1), ("DB", 2), ("VM", 2), ("CL1", 3), ("PDU", 5)]
    pdu = spofs[-1]
    assert [s.type for s in pdu.path] == [
        "DEPENDS_ON", "RUNS_ON", "HOSTED_ON", "MEMBER_OF", "POWERED_BY"]


async def test_dependencies_shared_first(cmdb: Cmdb, build: Build) -> None:
    """[APP1] -RUNS_ON-> [VM1], [APP2] -RUNS_ON-> [VM2], [VM1] -HOSTED_ON-> [HOST1],
    [VM2] -HOSTED_ON-> [HOST1], [APP1] -DEPENDS_ON-> [DB]"""
    g = await build(test_dependencies_shared_first.__doc__ or "")
    deps = await cmdb.impact.dependencies([g["APP1"].id, g["APP2"].id])
    assert [(d.ci.name, d.depth, sorted(c.name for c in d.shared_by)) for d in deps] == [
        ("HOST1", 2, ["APP1", "APP2"]), ("DB", 1, ["APP1"]), ("VM1", 1, ["APP1"]),
        ("VM2", 1, ["APP2"])]


async def test_unknown_ci(cmdb: Cmdb) -> None:
    with pytest.raises(NotFoundError):
        await cmdb.impact.impact(["nope"])
