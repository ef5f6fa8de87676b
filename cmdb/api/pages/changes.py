"""The console's change list, ``/changes``: every change record, newest first, by
state: its window in the CMDB's zone, who asked, how many CIs, what its impact was
worked out to be, and a link to that impact drawn (``/changes/{id}/impact``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmdb.api.pages.lists import PAGE, Cell, render_list
from cmdb.api.web.html import Html, language, segment, when
from cmdb.model.records import now
from cmdb.services import Cmdb
from cmdb.services.changes.records import Change
from cmdb.services.changes.service import OPEN_STATES, TRANSITIONS

HEADS: dict[str, dict[str, Any]] = {
    "en": {"title": "Changes", "state": "State",
           "columns": ("Change", "State", "Window", "Requester", "CIs", "Impact")},
    "zh-CN": {"title": "变更", "state": "状态",
              "columns": ("变更", "状态", "时间窗口", "申请人", "配置项数", "影响")},
}


async def upcoming(cmdb: Cmdb, days: int = 7, limit: int = 200) -> list[Change]:
    """Open changes whose window starts within ``days`` (the landing page's list)."""
    start, end = now(), now() + timedelta(days=days)
    found, _ = await cmdb.changes.find(None, limit)
    return sorted((c for c in found if c.state in OPEN_STATES
                   and start - timedelta(days=1) <= c.window_start <= end),
                  key=lambda c: c.window_start)


class ChangePages:
    """Renders the change list of one CMDB."""

    def __init__(self, cmdb: Cmdb, html: Html) -> None:
        self.cmdb = cmdb
        self.html = html

    def routes(self) -> list[BaseRoute]:
        return [Route("/changes", self.index, methods=["GET"])]

    async def index(self, request: Request) -> Response:
        lang = language(request)
        state = request.query_params.get("state", "")
        state = state if state in TRANSITIONS else ""
        found, more = await self.cmdb.changes.find(
            state or None, PAGE, request.query_params.get("after") or None)
        clock = self.cmdb.clock
        rows = [[Cell(c.title, f"/changes/{segment(c.id)}/impact?lang={lang}"),
                 Cell(c.state),
                 Cell(f"{when(c.window_start.isoformat(), clock)} – "
                      f"{when(c.window_end.isoformat(), clock)}"),
                 Cell(c.requester), Cell(str(len(c.ci_ids))),
                 Cell(impact_text(c))] for c in found]
        heads = HEADS[lang]
        return render_list(
            self.html, request, lang, title=heads["title"], action="/changes",
            headers=heads["columns"], rows=rows,
            next_after=found[-1].id if more and found else None,
            keep={"state": state} if state else {}, filter_name="state",
            filter_label=heads["state"], filter_options=[(s, s) for s in TRANSITIONS])


def impact_text(change: Change) -> str | None:
    """How many CIs the change was worked out to take down or degrade, and services."""
    impact = change.impact
    statuses = [i.status for i in impact.impacted]
    parts = [f"{s} {statuses.count(s)}" for s in ("DOWN", "DEGRADED") if s in statuses]
    if impact.services:
        parts.append(f"services {len(impact.services)}")
    return ", ".join(parts) or None
