"""Impact, dependencies, SPOF and changes through GraphQL over HTTP, on the demo estate."""

from __future__ import annotations

from typing import Any

from cmdb.services.demo import load_demo
from tests.api.conftest import LiveServer

IMPACT = """query($ids: [ID!]!, $kind: ImpactKind!) {
  impact(ciIds: $ids, kind: $kind) {
    kind planned truncated total
    impacted { ci { name class } status depth path { type from { name } to { name } } }
    services { ci { name } status }
    notify { party { name } roles cis { name } }
  }
}"""


async def ids_by_name(live: LiveServer, *names: str) -> list[str]:
    await load_demo(live.app.state.cmdb)
    out = []
    for name in names:
        page = live.ok(
            'query($t: String!) { cis(filter: {text: $t}) { edges { node { id name } } } }',
            {"t": name})
        out += [e["node"]["id"] for e in page["cis"]["edges"] if e["node"]["name"] == name]
    return out


async def test_one_cluster_host_degrades_the_services(live: LiveServer) -> None:
    [host] = await ids_by_name(live, "bj-srv-0101")
    report = live.ok(IMPACT, {"ids": [host], "kind": "MAINTENANCE"})["impact"]
    assert report["planned"] is True
    assert report["kind"] == "MAINTENANCE"
    by_name = {i["ci"]["name"]: i for i in report["impacted"]}
    cluster = by_name["BJ-VMWARE 虚拟化集群"]
    assert cluster["status"] == "DEGRADED"
    assert cluster["depth"] == 1
    assert cluster["path"] == [{"type": "MEMBER_OF", "from": {"name": "bj-srv-0101"},
                                "to": {"name": "BJ-VMWARE 虚拟化集群"}}]
    assert {s["ci"]["name"]: s["status"] for s in report["services"]} == {
        "网上银行 Online banking": "DEGRADED", "客户关系管理 CRM": "DEGRADED",
        "人力资源 HR services": "DEGRADED", "邮件服务 E-mail": "DEGRADED"}
    assert any(n["party"]["name"].startswith("基础架构组") for n in report["notify"])


async def test_core_switch_takes_services_down_and_spof(live: LiveServer) -> None:
    [switch, bank] = await ids_by_name(live, "BJ-CORE-SW1", "网上银行 Online banking")
    report = live.ok(IMPACT, {"ids": [switch], "kind": "OUTAGE"})["impact"]
    services = {s["ci"]["name"]: s["status"] for s in report["services"]}
    assert services["网上银行 Online banking"] == "DOWN"
    spof = live.ok("""query($s: ID!) { singlePointsOfFailure(serviceId: $s) {
        ci { name } depth path { type } } }""", {"s": bank})["singlePointsOfFailure"]
    names = [s["ci"]["name"] for s in spof]
    assert "BJ-CORE-SW1" in names
    assert "BJ-VMWARE 虚拟化集群" in names
    assert "bj-srv-0101" not in names  # one host of a 2-of-3 cluster is not a SPOF


async def test_dependencies_and_changes(live: LiveServer) -> None:
    [web, core, vm] = await ids_by_name(live, "网银前端 ebank-web", "网银核心 ebank-core",
                                        "vm-bj-005")
    deps = live.ok("""query($ids: [ID!]!) { dependencies(ciIds: $ids) { dependencies {
        ci { name } depth sharedBy { name } } } }""", {"ids": [web, core]})
    first = deps["dependencies"]["dependencies"][0]
    assert len(first["sharedBy"]) == 2
    plan = """mutation($i: PlanChangeInput!) { planChange(input: $i) { id state
        impact { services { ci { name } status } } conflicts { id } } }"""
    window: dict[str, Any] = {"title": "ESXi patch", "requester": "张伟",
                              "responsible": "Alice Martin", "ciIds": [vm],
                              "windowStart": "2026-11-28T22:00:00+00:00",
                              "windowEnd": "2026-11-29T01:00:00+00:00"}
    one = live.ok(plan, {"i": window})["planChange"]
    assert one["state"] == "draft"
    assert one["conflicts"] == []
    assert {s["ci"]["name"] for s in one["impact"]["services"]} >= {"网上银行 Online banking"}
    two = live.ok(plan, {"i": {**window, "title": "DB upgrade",
                               "windowStart": "2026-11-29T00:00:00+00:00"}})["planChange"]
    assert [c["id"] for c in two["conflicts"]] == [one["id"]]
    moved = live.ok("""mutation($id: ID!) { transitionChange(id: $id, to: "approved",
        reason: "CAB 11-27") { state history { from to actor reason } } }""", {"id": one["id"]})
    assert moved["transitionChange"]["history"][-1] == {
        "from": "draft", "to": "approved", "actor": "tests-admin", "reason": "CAB 11-27"}
    err = live.error("""mutation($id: ID!) { transitionChange(id: $id, to: "closed") { id } }""",
                     {"id": two["id"]})
    assert err["extensions"]["code"] == "INVALID_TRANSITION"
    listed = live.ok('{ changes(filter: {state: "approved"}) { nodes { title } } }')
    assert listed["changes"]["nodes"] == [{"title": "ESXi patch"}]


def test_out_of_range_depth_is_coded(live: LiveServer) -> None:
    err = live.error('{ impact(ciIds: ["x"], maxDepth: 500) { total } }')
    assert err["extensions"]["code"] == "LIMIT_EXCEEDED"


TREE = """query($ids: [ID!]!) { impact(ciIds: $ids) { changed { id }
  impacted { ci { id name } status depth reachedFromId relationshipType relationshipId
             reachedFrom { id } path { relationshipId type from { id } to { id } } } } }"""


async def test_the_lean_shape_is_a_tree_back_to_the_change(live: LiveServer) -> None:
    """Each impacted CI names the CI one step nearer the change and the relationship
    between them; walking those steps back is the CI's path, and ends at a changed CI."""
    [switch] = await ids_by_name(live, "BJ-CORE-SW1")
    report = live.ok(TREE, {"ids": [switch]})["impact"]
    changed = {c["id"] for c in report["changed"]}
    by_id = {i["ci"]["id"]: i for i in report["impacted"]}
    assert len(by_id) > 20
    for item in by_id.values():
        steps = []
        at = item
        while True:
            near = at["reachedFromId"]
            assert at["reachedFrom"] == {"id": near}
            steps.append((at["relationshipId"], at["relationshipType"]))
            if near in changed:
                break
            assert by_id[near]["depth"] == at["depth"] - 1
            at = by_id[near]
        assert len(steps) == item["depth"]
        assert steps[::-1] == [(s["relationshipId"], s["type"]) for s in item["path"]]
        last = item["path"][-1]
        assert item["ci"]["id"] in (last["from"]["id"], last["to"]["id"])
        assert item["reachedFromId"] in (last["from"]["id"], last["to"]["id"])
