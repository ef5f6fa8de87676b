"""Change records on every store: planned impact, lifecycle, conflicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cmdb.errors import InvalidTransitionError, NotFoundError, ValidationError
from cmdb.model.records import Actor
from cmdb.services import Cmdb
from cmdb.services.changes.service import ChangeInput
from tests.services.conftest import Build

SAT = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)


def plan(ci_ids: list[str], start: datetime, hours: int = 2, title: str = "reboot") -> ChangeInput:
    return ChangeInput(title=title, description="kernel update", requester="张伟",
                       responsible="Alice Martin", window_start=start,
                       window_end=start + timedelta(hours=hours), ci_ids=ci_ids)


async def test_plan_keeps_impact_and_moves_through_states(
    cmdb: Cmdb, build: Build, actor: Actor
) -> None:
    """[APP] -RUNS_ON-> [VM], [SVC] -DEPENDS_ON-> [APP]"""
    g = await build(test_plan_keeps_impact_and_moves_through_states.__doc__ or "")
    change = await cmdb.changes.plan(actor, plan([g["VM"].id], SAT))
    assert change.state == "draft"
    assert await cmdb.changes.get(change.id) == change  # kept and read back whole
    impact = change.impact
    assert {i.ci_id for i in impact.impacted} == {g["APP"].id, g["SVC"].id}
    # the tree of how the failure travels, as planned
    assert {(i.ci_id, i.reached_from, i.via) for i in impact.impacted} == {
        (g["APP"].id, g["VM"].id, "RUNS_ON"), (g["SVC"].id, g["APP"].id, "DEPENDS_ON")}
    assert [s.ci_id for s in impact.services] == [g["SVC"].id]
    with pytest.raises(InvalidTransitionError, match="allowed: approved, cancelled"):
        await cmdb.changes.transition(actor, change.id, "closed")
    for state in ("approved", "implemented", "closed"):
        change = await cmdb.changes.transition(actor, change.id, state, f"to {state}")
    assert [(e.from_state, e.to_state, e.actor) for e in change.events] == [
        (None, "draft", "alice"), ("draft", "approved", "alice"),
        ("approved", "implemented", "alice"), ("implemented", "closed", "alice")]
    assert await cmdb.changes.get(change.id) == change
    assert change.state == "closed"
    assert [d.id for d in (await cmdb.changes.find("closed"))[0]] == [change.id]


async def test_conflicts_need_overlap_and_shared_impact(
    cmdb: Cmdb, build: Build, actor: Actor
) -> None:
    """[APP1] -RUNS_ON-> [VM1], [APP2] -RUNS_ON-> [VM2], [SVC] -DEPENDS_ON-> [APP1],
    [SVC] -DEPENDS_ON-> [APP2], [APP3] -RUNS_ON-> [VM3]"""
    g = await build(test_conflicts_need_overlap_and_shared_impact.__doc__ or "")
    first = await cmdb.changes.plan(actor, plan([g["VM1"].id], SAT))
    same_service = await cmdb.changes.plan(actor, plan([g["VM2"].id], SAT + timedelta(hours=1)))
    later = await cmdb.changes.plan(actor, plan([g["VM2"].id], SAT + timedelta(hours=2)))
    elsewhere = await cmdb.changes.plan(actor, plan([g["VM3"].id], SAT))
    assert [c.id for c in await cmdb.changes.conflicts(first)] == [same_service.id]
    assert {c.id for c in await cmdb.changes.conflicts(same_service)} == {first.id, later.id}
    assert await cmdb.changes.conflicts(elsewhere) == []
    await cmdb.changes.transition(actor, same_service.id, "cancelled", "postponed")
    assert await cmdb.changes.conflicts(first) == []


async def test_recompute_and_bad_input(cmdb: Cmdb, build: Build, actor: Actor) -> None:
    """[APP1] -RUNS_ON-> [VM1]"""
    g = await build(test_recompute_and_bad_input.__doc__ or "")
    change = await cmdb.changes.plan(actor, plan([g["VM1"].id], SAT))
    app2 = await cmdb.cis.create(actor, {"class_name": "Application", "name": "APP2"})
    await cmdb.cis.relate(actor, app2.id, "RUNS_ON", g["VM1"].id)
    again = await cmdb.changes.recompute(actor, change.id)
    assert len(again.impact.impacted) == 2
    assert again.version == 2
    with pytest.raises(ValidationError, match="windowEnd"):
        await cmdb.changes.plan(actor, plan([g["VM1"].id], SAT, hours=-1))
    with pytest.raises(NotFoundError):
        await cmdb.changes.plan(actor, plan(["missing"], SAT))
    with pytest.raises(NotFoundError):
        await cmdb.changes.transition(actor, "missing", "approved")
