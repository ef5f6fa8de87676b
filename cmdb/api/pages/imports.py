"""The console's import pages: ``/imports`` (every run, newest first: source, file, who,
when, what became of its records) and ``/imports/{id}`` (one run's outcomes in file
order, by kind, each linking to the CI it matched or registered)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmdb.api.pages.lists import PAGE, Cell, render_list
from cmdb.api.web.html import Html, language, segment, when
from cmdb.services import Cmdb
from cmdb.services.imports.outcomes import Outcome

HEADS: dict[str, dict[str, Any]] = {
    "en": {"runs": ("Import", "Status", "Source", "File", "By", "Outcomes"),
           "title": "Imports",
           "outcomes": ("Line", "Outcome", "CI", "Why"), "kind": "Outcome"},
    "zh-CN": {"runs": ("导入时间", "状态", "来源", "文件", "操作人", "结果"),
              "title": "导入记录",
              "outcomes": ("行", "结果", "配置项", "原因"), "kind": "结果"},
}


class ImportPages:
    """Renders the import runs of one CMDB."""

    def __init__(self, cmdb: Cmdb, html: Html) -> None:
        self.cmdb = cmdb
        self.html = html

    def routes(self) -> list[BaseRoute]:
        return [Route("/imports", self.index, methods=["GET"]),
                Route("/imports/{run_id}", self.run, methods=["GET"])]

    async def index(self, request: Request) -> Response:
        lang = language(request)
        runs, more = await self.cmdb.imports.runs(PAGE,
                                                  request.query_params.get("after") or None)
        rows = [[Cell(when(r.started_at.isoformat(), self.cmdb.clock),
                      f"/imports/{segment(r.id)}?lang={lang}"),
                 Cell(r.status), Cell(r.source), Cell(r.file), Cell(r.actor),
                 Cell(", ".join(f"{k} {n}" for k, n in r.counts.items() if n) or None)]
                for r in runs]
        heads = HEADS[lang]
        return render_list(self.html, request, lang, title=heads["title"], action="/imports",
                           headers=heads["runs"], rows=rows,
                           next_after=runs[-1].id if more and runs else None, keep={})

    async def run(self, request: Request) -> Response:
        lang = language(request)
        run_id: str = request.path_params["run_id"]
        run = await self.cmdb.imports.get_run(run_id)
        kind = request.query_params.get("outcome", "")
        kind = kind if kind in Outcome.__members__ else ""
        found, more = await self.cmdb.imports.outcomes(
            run.id, kind or None, PAGE, request.query_params.get("after") or None)
        names = {k: v.name for k, v in (await self.cmdb.store.get_cis(
            sorted({o.ci_id for o in found if o.ci_id}))).items()}
        rows = [[Cell(str(o.line) if o.line is not None else None), Cell(o.outcome.value),
                 Cell(names.get(o.ci_id, o.ci_id), f"/cis/{segment(o.ci_id)}?lang={lang}")
                 if o.ci_id else Cell(None),
                 Cell(" ".join(p for p in (o.field, o.reason) if p) or None)]
                for o in found]
        heads = HEADS[lang]
        title = f"{run.file} · {when(run.started_at.isoformat(), self.cmdb.clock)}"
        return render_list(
            self.html, request, lang, title=title, action=f"/imports/{segment(run.id)}",
            headers=heads["outcomes"], rows=rows,
            next_after=found[-1].id if more and found else None,
            keep={"outcome": kind} if kind else {}, filter_name="outcome",
            filter_label=heads["kind"],
            filter_options=[(o.value, o.value) for o in Outcome])
