"""The impact picture's layout: columns follow the explanations, the sweeps remove
crossings, the output is the same for the same report, large reports are grouped, and
names reach the SVG as text."""

from __future__ import annotations

import random
import time

from cmdb.api.pages.impact_picture import MOST_SHOWN, THRESHOLD, GroupBy, NodeKind, layout
from cmdb.api.web.html import environment
from cmdb.model.records import CI
from cmdb.services.impact.graph import PathStep, Status
from cmdb.services.impact.service import ImpactedCI, ImpactKind, ImpactReport, NotifyParty

HOSTILE = '<script>alert("x")</script> & 机房"\'<img src=x onerror=alert(1)>'


def ci(class_name: str, name: str) -> CI:
    return CI(class_name=class_name, name=name, state="deployed")


class Estate:
    """A blast radius drawn the way a data centre hangs together: a rack's switch feeds
    servers, each server hosts VMs, VMs run applications, services depend on those."""

    def __init__(self, servers: int, vms: int = 3, seed: int = 7,
                 hostile: str | None = None) -> None:
        rnd = random.Random(seed)
        self.switch = ci("Switch", "BJ-A03-接入交换机")
        self.items: list[ImpactedCI] = []
        self.rel = 0
        apps: list[CI] = []
        for s in range(servers):
            server = ci("Server", f"bj-srv-{s:04d} 数据库服务器")
            self.hit(server, self.switch, "CONNECTED_TO", Status.DOWN)
            for v in range(vms):
                vm = ci("VirtualMachine", f"vm-bj-{rnd.randrange(10_000):04d}-{v}")
                self.hit(vm, server, "HOSTED_ON", Status.DOWN)
                if rnd.random() < 0.5:
                    app = ci("Application", hostile if hostile and not apps
                             else f"应用 app-{len(apps):03d}")
                    apps.append(app)
                    self.hit(app, vm, "RUNS_ON", Status.DEGRADED)
        self.services = []
        for i in range(0, len(apps), 7):
            svc = ci("BusinessService", f"业务服务 {i // 7:02d} 网上银行")
            self.services.append(self.hit(svc, apps[i], "DEPENDS_ON", Status.DEGRADED))
        self.owner = ci("Team", "基础架构组 Infrastructure")

    def hit(self, target: CI, near: CI, type_: str, status: Status) -> ImpactedCI:
        before = next((i.path for i in self.items if i.ci.id == near.id), [])
        self.rel += 1
        item = ImpactedCI(target, status, len(before) + 1,
                          [*before, PathStep(f"r{self.rel}", type_, target.id, near.id)])
        self.items.append(item)
        return item

    def report(self) -> ImpactReport:
        cis = {i.ci.id: i.ci for i in self.items}
        return ImpactReport(ImpactKind.OUTAGE, [self.switch], self.items, self.services,
                            [NotifyParty(self.owner, ["OWNED_BY"], [self.switch])], False, 10,
                            cis)


def test_columns_follow_the_explanations() -> None:
    report = Estate(8).report()
    pic = layout(report, threshold=1000)
    at = {n.key: n for n in pic.nodes}
    assert at[report.changed[0].id].layer == 0
    assert at[report.changed[0].id].kind is NodeKind.CHANGED
    for item in report.impacted:
        node = at[item.ci.id]
        assert node.layer == item.depth
        assert node.status == item.status.name
        assert node.href == f"/cis/{item.ci.id}"
    # every impacted CI has its edge from the CI it is reached from, one column left,
    # drawn left to right, labelled with the relationship's type
    by_target = {e.target: e for e in pic.edges}
    for item in report.impacted:
        edge = by_target[item.ci.id]
        assert edge.source == item.reached_from
        assert edge.type == item.path[-1].type
        assert at[edge.source].layer + 1 == at[edge.target].layer
        assert edge.x1 < edge.x2
    assert {at[s.ci.id].service for s in report.services} == {True}
    owner = at[report.notify[0].party.id]
    assert owner.kind is NodeKind.PARTY
    assert owner.layer == max(i.depth for i in report.impacted) + 1
    # nothing overlaps in a column
    for a in pic.nodes:
        for b in pic.nodes:
            if a is not b and a.x == b.x:
                assert abs(a.y - b.y) >= a.h


def test_the_sweeps_leave_no_crossings_in_a_tree() -> None:
    """The explanations form a tree: ordered by barycentres it is drawn without crossings,
    although the columns start in name order (which crosses)."""
    report = Estate(12).report()
    pic = layout(report, threshold=1000)
    assert pic.crossings == 0
    positions = {n.key: (n.x, n.y) for n in pic.nodes}
    for e in pic.edges:
        for f in pic.edges:
            if positions[e.source][0] == positions[f.source][0] and \
                    positions[e.source][1] < positions[f.source][1]:
                assert positions[e.target][1] <= positions[f.target][1]


def test_the_same_report_gives_the_same_picture() -> None:
    report = Estate(20).report()
    one = layout(report, threshold=40)
    shuffled = list(report.impacted)
    random.Random(3).shuffle(shuffled)
    two = layout(ImpactReport(report.kind, report.changed, shuffled, report.services,
                              report.notify, False, 10, report.cis), threshold=40)
    assert [(n.key, n.x, n.y, n.label, n.sub) for n in one.nodes] == \
        [(n.key, n.x, n.y, n.label, n.sub) for n in two.nodes]
    assert [(e.source, e.target, e.label, e.x1, e.y2) for e in one.edges] == \
        [(e.source, e.target, e.label, e.x1, e.y2) for e in two.edges]


def test_large_reports_are_grouped_and_groups_expand() -> None:
    report = Estate(200).report()
    assert len(report.impacted) > 800
    pic = layout(report, expand_href=lambda k: f"?expand={k}")
    assert pic.grouped
    groups = {(n.layer, n.label.split(" ×")[0]): n for n in pic.groups}
    vms = groups[(2, "VirtualMachine")]
    assert vms.label == "VirtualMachine ×600"
    assert (vms.down, vms.degraded) == (600, 0)
    assert vms.href == "?expand=VirtualMachine"
    assert "DOWN 600" in vms.sub
    # so many services: grouped too, the group still marked as services; the whole
    # report fits on a screen
    assert len(report.services) > MOST_SHOWN
    services = next(n for n in pic.groups if n.label.startswith("BusinessService"))
    assert services.service
    assert services.down + services.degraded == len(report.services)
    assert not vms.service
    assert len(pic.nodes) < 20
    edge = next(e for e in pic.edges if e.target == vms.key)
    assert (edge.type, edge.count, edge.label) == ("HOSTED_ON", 600, "HOSTED_ON ×600")
    # one group opened: its CIs drawn one by one, the rest still grouped
    opened = layout(report, expanded=["Application"])
    apps = [n for n in opened.nodes if n.sub == "Application"]
    assert len(apps) == sum(1 for i in report.impacted if i.ci.class_name == "Application")
    assert any(n.key.startswith("group:2:VirtualMachine") for n in opened.groups)
    # below the threshold nothing is grouped
    assert not layout(Estate(5).report()).grouped


def test_a_few_services_stay_themselves_and_many_people_are_counted() -> None:
    estate = Estate(40)
    report = estate.report()
    assert len(report.impacted) > THRESHOLD
    assert 0 < len(report.services) <= MOST_SHOWN
    people = [NotifyParty(ci("Person", f"值班工程师 {i:02d}"), ["MANAGED_BY"],
                          [i.ci for i in report.impacted[:40 - i]]) for i in range(30)]
    report.notify = people
    pic = layout(report)
    assert pic.grouped
    at = {n.key: n for n in pic.nodes}
    for s in report.services:
        assert at[s.ci.id].service
        assert at[s.ci.id].kind is NodeKind.CI
    drawn = [n for n in pic.nodes if n.kind is NodeKind.PARTY]
    assert len(drawn) == MOST_SHOWN
    assert [n.key for n in drawn[:-1]] == [p.party.id for p in people[:MOST_SHOWN - 1]]
    assert (drawn[-1].label, drawn[-1].href) == (f"+{30 - MOST_SHOWN + 1}", "#impact-notify")


def test_grouping_by_location() -> None:
    report = Estate(30).report()
    rooms = {i.ci.id: ("3楼机房" if n % 2 else "A03机柜") for n, i in enumerate(report.impacted)}
    pic = layout(report, group_by=GroupBy.LOCATION, locations=rooms)
    assert pic.group_by is GroupBy.LOCATION
    labels = {n.label.split(" ×")[0] for n in pic.groups}
    assert labels == {"3楼机房", "A03机柜"}
    total = sum(n.down + n.degraded for n in pic.groups)
    assert len(report.services) <= MOST_SHOWN  # drawn one by one
    assert total == len(report.impacted) - len(report.services)


def test_a_hostile_name_is_drawn_as_text() -> None:
    report = Estate(3, hostile=HOSTILE).report()
    pic = layout(report, threshold=1000)
    svg = environment().get_template("impact_picture.svg").render(
        picture=pic, t={"legend": "Legend"})
    assert "<script" not in svg
    assert "<img" not in svg
    assert "&lt;script&gt;" in svg
    assert "机房&#34;" in svg or "机房&quot;" in svg
    long = next(n for n in pic.nodes if n.title.startswith("<script"))
    assert long.label.endswith("…")  # shortened to fit, the whole name in its title


def test_eight_hundred_cis_are_laid_out_quickly() -> None:
    """A generous bound (the figure is in bench/bench_impact_picture.py): 800 CIs drawn
    one by one, and grouped."""
    report = Estate(200).report()
    best = 10.0
    for _ in range(3):
        started = time.perf_counter()
        layout(report, threshold=10_000)
        layout(report)
        best = min(best, time.perf_counter() - started)
    assert best < 1.0, f"{best * 1000:.0f} ms"
