"""The impact pages: what breaks if a CI (a set of CIs, a change's CIs) goes down, drawn.

``GET /cis/{id}/impact``, ``GET /impact?ids=a,b`` and ``GET /changes/{id}/impact``
show the blast radius as a picture laid out on the server (``impact_picture``; inline
SVG, no script, nothing loaded from anywhere), with the list of impacted CIs, the
business services and whom to notify beside it. Query parameters: ``depth`` (how
many relationships the failure may travel, 0 to 25; a GET form sets it), ``group``
(``class`` or ``location``: how a large report is grouped) and ``expand`` (a group
drawn CI by CI; may repeat). Any signed-in reader may look.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmdb.api.pages.impact_picture import GroupBy, layout
from cmdb.api.pages.lists import Cell, render_list
from cmdb.api.web.html import Html, language, segment
from cmdb.errors import NotFoundError, ValidationError
from cmdb.model.records import CI
from cmdb.services import Cmdb
from cmdb.services.impact.service import MAX_DEPTH, ImpactKind, ImpactReport

DEFAULT_DEPTH = 10
MAX_EXPANDED = 20

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Impact", "of": "If this goes down", "of_set": "If these go down",
        "of_change": "Change", "planned": "planned maintenance",
        "depth": "Depth", "show": "Show", "group": "Group by", "by_class": "class",
        "by_location": "location", "grouped": "Large impact: CIs are grouped; open a group "
        "to see its CIs.", "expand": "Open", "collapse": "Group all again",
        "legend": "Legend", "changed": "changed", "down": "DOWN", "degraded": "DEGRADED",
        "service": "business service", "party": "to notify", "cluster": "group (click to "
        "open)", "arrows": "Arrows show how the failure travels, labelled with the "
        "relationship.", "impacted": "Impacted CIs", "services": "Business services",
        "notify": "Whom to notify", "status": "Status", "name": "Name", "class": "Class",
        "from": "Reached from", "via": "Relationship", "roles": "Roles",
        "cis": "CIs", "none": "Nothing else is affected.", "truncated": "The depth "
        "limit stopped the search: more may be affected further away.",
        "nowhere": "(no location)", "total": "impacted", "more": "more to notify (listed "
        "below)",
    },
    "zh-CN": {
        "title": "影响分析", "of": "如果它宕机", "of_set": "如果这些配置项宕机",
        "of_change": "变更", "planned": "计划维护",
        "depth": "深度", "show": "显示", "group": "分组方式", "by_class": "按类别",
        "by_location": "按位置", "grouped": "受影响的配置项较多，已分组显示；点击分组可展开。",
        "expand": "展开", "collapse": "全部重新分组",
        "legend": "图例", "changed": "变更对象", "down": "中断", "degraded": "降级",
        "service": "业务服务", "party": "需通知", "cluster": "分组（点击展开）",
        "arrows": "箭头表示故障传播的方向，并标注关系类型。", "impacted": "受影响的配置项",
        "services": "业务服务", "notify": "需要通知", "status": "状态", "name": "名称",
        "class": "类别", "from": "来自", "via": "关系", "roles": "角色", "cis": "个配置项",
        "none": "没有其他配置项受影响。",
        "truncated": "已达到深度上限，更远处可能还有受影响的配置项。",
        "nowhere": "（无位置）", "total": "个受影响", "more": "其他需通知者（见下表）",
    },
}


@dataclass(frozen=True)
class Line:
    """One row of the list view."""

    status: str
    depth: int
    name: str
    href: str
    class_label: str
    near: str | None
    near_href: str | None
    via: str | None
    service: bool


class ImpactPages:
    """Renders the impact pages of one CMDB."""

    def __init__(self, cmdb: Cmdb, html: Html) -> None:
        self.cmdb = cmdb
        self.html = html

    def routes(self) -> list[BaseRoute]:
        return [Route("/cis/{ci_id}/impact", self.for_ci, methods=["GET"]),
                Route("/impact", self.for_set, methods=["GET"]),
                Route("/changes/{change_id}/impact", self.for_change, methods=["GET"]),
                Route("/cis/{ci_id}/dependencies", self.dependencies, methods=["GET"])]

    async def for_ci(self, request: Request) -> Response:
        ci_id: str = request.path_params["ci_id"]
        return await self.show(request, [ci_id], ImpactKind.OUTAGE, None)

    async def dependencies(self, request: Request) -> Response:
        """``/cis/{id}/dependencies``: what the CI needs (upstream), nearest first: each
        CI whose failure alone reaches it (redundancy honoured), with its depth."""

        lang = language(request)
        ci_id: str = request.path_params["ci_id"]
        ci = await self.cmdb.queries.get(ci_id=ci_id)
        if ci is None:
            raise NotFoundError(f"no CI has the id {ci_id}")
        needs = await self.cmdb.impact.dependencies([ci.id])
        registry = self.cmdb.registry
        rows = [[Cell(d.ci.name, f"/cis/{segment(d.ci.id)}?lang={lang}"),
                 Cell(d.ci.asset_tag),
                 Cell((registry.classes[d.ci.class_name].definition.label.get(lang)
                       if d.ci.class_name in registry.classes else None) or d.ci.class_name),
                 Cell(str(d.depth))]
                for d in sorted(needs, key=lambda d: (d.depth, d.ci.name))]
        heads = {"en": (f"What {ci.name} depends on", ("CI", "Asset tag", "Class", "Depth")),
                 "zh-CN": (f"{ci.name} 的依赖", ("配置项", "资产编号", "类别", "层级"))}[lang]
        return render_list(self.html, request, lang, title=heads[0],
                           action=f"/cis/{segment(ci.id)}/dependencies", headers=heads[1],
                           rows=rows, next_after=None, keep={})

    async def for_set(self, request: Request) -> Response:
        ids = [i.strip() for i in request.query_params.get("ids", "").split(",") if i.strip()]
        if not ids:
            raise ValidationError("ids: give the ids of one or more CIs, separated by commas",
                                  field="ids")
        return await self.show(request, list(dict.fromkeys(ids)), ImpactKind.OUTAGE, None)

    async def for_change(self, request: Request) -> Response:
        change = await self.cmdb.changes.get(request.path_params["change_id"])
        return await self.show(request, list(change.ci_ids), ImpactKind.MAINTENANCE,
                               change.title)

    async def show(self, request: Request, ids: list[str], kind: ImpactKind,
                   change_title: str | None) -> Response:
        lang = language(request)
        t = TEXT[lang]
        params = request.query_params
        depth = _depth(params.get("depth"))
        group = _group(params.get("group"))
        expanded = list(dict.fromkeys(params.getlist("expand")))[:MAX_EXPANDED]
        report = await self.cmdb.impact.impact(ids, kind, depth)
        locations = await self.locations(report) if group is GroupBy.LOCATION else None
        keep = [(k, v) for k, v in params.multi_items() if k in ("ids", "depth", "lang")]

        def link(**change: Any) -> str:
            items = [*keep, ("group", change.get("group", group.value))]
            items += [("expand", e) for e in change.get("expand", expanded)]
            return f"{request.url.path}?{urlencode(items)}"

        picture = layout(
            report, class_label=lambda name: self.class_label(name, lang), locations=locations,
            group_by=group, expanded=expanded,
            expand_href=lambda key: link(expand=[*expanded, key]),
            words={"down": t["down"], "degraded": t["degraded"], "cis": t["cis"],
                   "nowhere": t["nowhere"], "more": t["more"]})
        other = "en" if lang == "zh-CN" else "zh-CN"
        switch = [(k, v) for k, v in params.multi_items() if k != "lang"] + [("lang", other)]
        return self.html.render(
            request, "impact.html", lang=lang, t=t, report=report, picture=picture,
            depth=depth, max_depth=MAX_DEPTH, group=group.value, ids=",".join(ids),
            set_page=request.url.path == "/impact", change_title=change_title,
            changed=[(c, f"/cis/{segment(c.id)}") for c in report.changed],
            lines=self.lines(report, lang), services=self.lines(report, lang, True),
            notify=[(n.party, f"/cis/{segment(n.party.id)}", n.roles, len(n.cis))
                    for n in report.notify],
            by_class=link(group="class", expand=[]),
            by_location=link(group="location", expand=[]),
            collapse=link(expand=[]) if expanded else None,
            switch_url=f"{request.url.path}?{urlencode(switch)}",
        )

    def class_label(self, name: str, lang: str) -> str:
        info = self.cmdb.registry.classes.get(name)
        return (info.definition.label.get(lang) or name) if info else name

    def lines(self, report: ImpactReport, lang: str, services: bool = False) -> list[Line]:
        ids = {s.ci.id for s in report.services}
        out = []
        for item in report.services if services else report.impacted:
            near_id = item.reached_from
            near: CI | None = report.cis.get(near_id) if near_id else None
            out.append(Line(
                item.status.name, item.depth, item.ci.name, f"/cis/{segment(item.ci.id)}",
                self.class_label(item.ci.class_name, lang), near.name if near else near_id,
                f"/cis/{segment(near_id)}" if near_id else None,
                item.path[-1].type if item.path else None, item.ci.id in ids))
        return out

    async def locations(self, report: ImpactReport) -> dict[str, str]:
        """The place each impacted CI is in (its rack, room...), by name."""
        ids = [i.ci.id for i in report.impacted]
        links = await self.cmdb.store.relationships_of(ids, "out",
                                                   [self.cmdb.registry.location_type])
        place_of = {ci_id: rels[0].target_id for ci_id, rels in links.items() if rels}
        places = await self.cmdb.store.get_cis(sorted(set(place_of.values())))
        return {ci_id: places[p].name for ci_id, p in place_of.items() if p in places}


def _depth(text: str | None) -> int:
    if text is None or text.strip() == "":
        return DEFAULT_DEPTH
    try:
        value = int(text.strip())
    except ValueError:
        raise ValidationError(f"depth: give a whole number from 0 to {MAX_DEPTH}, not "
                              f"{text[:20]!r}", field="depth") from None
    if not 0 <= value <= MAX_DEPTH:
        raise ValidationError(f"depth: give a whole number from 0 to {MAX_DEPTH}",
                              field="depth")
    return value


def _group(text: str | None) -> GroupBy:
    try:
        return GroupBy(text or GroupBy.CLASS.value)
    except ValueError:
        raise ValidationError("group: give class or location", field="group") from None

