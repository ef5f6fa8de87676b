"""Auditors' pages: the campaign page ``/campaigns/{id}`` (progress per place, findings
with filters, resolve forms), its reports ``/campaigns/{id}/report.csv|.pdf``, and the
"seen here" form of the asset page (``POST /a/{asset_tag}/seen``).

Server-rendered, zh-CN or English, no script, nothing loaded from elsewhere. Who acts
is :func:`page_actor`: the signed-in principal the access middleware leaves on the
request, else the local demo user. Forms are read within small bounds (``forms``); the
access checks have already seen their CSRF token. A done form goes back to its page
with a message chosen from a closed set (``?msg=``: nothing a link can make the page
say); a refused one answers an error page saying why, with a way back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cmdb.api.pages.lists import PAGE, Cell, render_list
from cmdb.api.web.cpu import run_cpu
from cmdb.api.web.error_pages import error_response
from cmdb.api.web.errors import status_of
from cmdb.api.web.forms import form_text, read_page_form
from cmdb.api.web.html import LANGUAGES, Html, language, segment, when
from cmdb.errors import CmdbError, NotFoundError, ValidationError
from cmdb.model.records import CI, Actor, Channel
from cmdb.services import Cmdb
from cmdb.services.audit import words as aw
from cmdb.services.audit.records import STATUSES, Finding
from cmdb.services.audit.resolutions import ResolveOptions
from cmdb.services.audit.sightings import SightingInput
from cmdb.services.audit.values import FindingStatus, FindingType, Resolution

PAGE_SIZE = 50
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "campaign": "Audit campaign", "status": "Status", "period": "Period",
        "progress": "Progress by place", "place": "Place", "registered": "Registered",
        "seen": "Seen", "verified": "Verified", "open": "Open", "findings": "Findings",
        "all": "All", "type": "Type", "asset": "Asset", "where": "Registered / seen",
        "evidence": "Evidence", "resolve": "Resolve selected", "reason": "Reason",
        "class": "Class (for a new CI)", "none": "Nothing here.", "more": "More",
        "report": "Report", "seen_here": "Seen here", "resolved_n": "Resolved: {n}",
        "condition": "Condition", "note": "Note", "record": "Record sighting",
        "when": "When (blank: now)",
        "audit": "Audit history", "no_sightings": "Not seen in any campaign yet.",
        "recorded": "Sighting recorded.",
        "no_campaign": "Recorded, but outside any open campaign: no campaign audits this "
                       "asset here, so it counts in none.",
        "by": "by", "error": "Not done",
    },
    "zh-CN": {
        "campaign": "盘点活动", "status": "状态", "period": "周期", "progress": "各位置进度",
        "place": "位置", "registered": "登记", "seen": "已见", "verified": "核实",
        "open": "未决", "findings": "盘点发现", "all": "全部", "type": "类型",
        "asset": "资产", "where": "登记位置 / 所见位置", "evidence": "证据",
        "resolve": "处理所选", "reason": "原因", "class": "类别（登记新资产时）",
        "none": "暂无。", "more": "更多", "report": "报告", "resolved_n": "已处理 {n} 项",
        "seen_here": "在此看到", "condition": "状况", "note": "备注", "record": "记录盘点",
        "when": "时间（留空为当前时间）",
        "audit": "盘点记录", "no_sightings": "尚未在任何盘点中见到。",
        "recorded": "已记录。",
        "no_campaign": "已记录，但不在任何进行中的盘点范围内：没有盘点活动在此盘点该资产，"
                       "不计入任何盘点。", "by": "盘点人",
        "error": "未完成",
    },
}
for _lang, _t in TEXT.items():
    # The audit's codes in words, shared with the report (cmdb.services.audit.words):
    # finding types, statuses and resolutions by their code, campaign states as
    # ``st_<state>``, the roads a sighting came by as ``source.<road>``.
    _t.update({**aw.codes(_lang, "type"), **aw.codes(_lang, "status"),
               **aw.codes(_lang, "resolution"),
               **{f"st_{k}": v for k, v in aw.codes(_lang, "campaign").items()},
               **{f"source.{k}": v for k, v in aw.codes(_lang, "source").items()}})


def page_actor(request: Request) -> Actor:
    """Who a browser page acts as (the sign-in, once present; else the local user)."""
    principal = getattr(request.state, "principal", None)
    return Actor(name=str(getattr(principal, "name", None) or "local"), channel=Channel.AUDIT)


#: The "seen here" form's messages and their tones (a sighting no campaign takes is a
#: warning, not a success).
SEEN_MESSAGES = {"recorded": "ok", "no_campaign": "warn"}


class CampaignPages:
    """Renders the campaign pages and reports, and takes the page forms."""

    def __init__(self, cmdb: Cmdb, html: Html) -> None:
        self.cmdb = cmdb
        self.html = html

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/campaigns/{id}/report.csv", self.report_csv, methods=["GET"]),
            Route("/campaigns/{id}/report.pdf", self.report_pdf, methods=["GET"]),
            Route("/campaigns/{id}/resolve", self.resolve, methods=["POST"]),
            Route("/campaigns/{id}", self.page, methods=["GET"]),
            Route("/campaigns", self.index, methods=["GET"]),
            Route("/a/{asset_tag:path}/seen", self.seen, methods=["POST"]),
        ]

    async def page(self, request: Request) -> Response:
        lang = language(request)
        t = TEXT[lang]
        try:
            campaign = await self.cmdb.campaigns.get(request.path_params["id"])
        except NotFoundError as exc:
            return error_response(self.html, request, status_of(exc), exc.message, exc.code)
        q = request.query_params
        type_ = q.get("type") if q.get("type") in FindingType.__members__ else None
        wanted = q.get("status", "open")
        status = wanted if wanted in {s.value for s in FindingStatus} else None
        raw_offset = q.get("offset", "0")
        offset = int(raw_offset) if raw_offset.isdigit() and len(raw_offset) <= 9 else 0
        found, more = await self.cmdb.campaigns.findings(campaign.id, type_, status,
                                                         PAGE_SIZE, offset)
        progress = await self.cmdb.campaigns.progress(campaign.id)
        ids = {i for f in found for i in (f.ci_id, f.place_id, f.seen_place_id) if i}
        cis = await self.cmdb.store.get_cis(sorted(ids)) if ids else {}
        base = f"/campaigns/{segment(campaign.id)}"

        def link(**change: Any) -> str:
            params = {"type": type_, "status": status or "all", "lang": lang, **change}
            return base + "?" + urlencode({k: v for k, v in params.items() if v})

        other = "en" if lang == "zh-CN" else "zh-CN"
        count = q.get("n", "")
        message = (t["resolved_n"].format(n=int(count)) if q.get("msg") == "resolved"
                   and count.isdigit() and len(count) < 7 else None)
        return self.html.render(
            request, "campaign.html", lang=lang, t=t, c=campaign, progress=progress[:100],
            places_total=len(progress), findings=[self.row(f, cis, lang) for f in found],
            more=more, link=link, type_=type_, status=status,
            types=[x.value for x in FindingType], statuses=[s.value for s in FindingStatus],
            next_offset=offset + len(found), resolutions=[r.value for r in Resolution],
            base=base,
            message=message, switch_url=link(lang=other))

    def row(self, f: Finding, cis: dict[str, CI], lang: str = "en") -> dict[str, Any]:
        ci = cis.get(f.ci_id or "")
        place = cis.get(f.place_id or "")
        seen = cis.get(f.seen_place_id or "")
        ev = f.last_evidence
        if f.type is FindingType.UNREGISTERED:
            place = None
        out = {"id": f.id, "type": f.type.value, "status": f.status.value,
               "tag": f.asset_tag or (ci.asset_tag if ci else None) or f.identity,
               "name": ci.name if ci else "", "place": place.name if place else "",
               "seen": seen.name if seen else f.seen_place or "",
               "field": f.field, "observed": f.observed,
               "by": ev.by, "at": when(ev.at, self.cmdb.clock), "source": ev.source,
               "resolution": f.resolution}
        if f.field:  # an attribute by the schema's label, a condition in words
            out["field"] = aw.field_label(self.cmdb.registry, lang, f.field,
                                          ci.class_name if ci else None)
            out["observed"] = aw.value_text(lang, f.field, f.observed)
        return out

    async def resolve(self, request: Request) -> Response:
        """The campaign page's "resolve selected": one finding or many at once."""
        form = await read_page_form(request)
        campaign_id = request.path_params["id"]
        home = f"/campaigns/{segment(campaign_id)}"
        back = form_text(form, "back", 2000)
        if not back.startswith(home + "?") and back != home:
            back = home
        ids = [v for v in form.getlist("finding") if isinstance(v, str)]
        try:
            resolution = Resolution(form_text(form, "resolution", 40))
        except ValueError:
            return error_response(self.html, request, 400, "choose how to resolve the "
                                  "findings", "VALIDATION_ERROR", back=back)
        try:
            await self.cmdb.resolutions.resolve_many(
                page_actor(request), ids, resolution, form_text(form, "reason"),
                ResolveOptions(class_name=form_text(form, "class_name", 100) or None))
        except CmdbError as exc:
            return error_response(self.html, request, status_of(exc), exc.message, exc.code,
                                  back=back)
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}{urlencode({'msg': 'resolved', 'n': len(ids)})}",
                                status_code=303)

    async def index(self, request: Request) -> Response:
        """``/campaigns``: every campaign, newest first, by status; each opens its page."""
        lang = language(request)
        status = request.query_params.get("status", "")
        status = status if status in STATUSES else ""
        try:
            found, more = await self.cmdb.campaigns.find(
                status or None, PAGE, request.query_params.get("after") or None)
        except CmdbError as exc:
            return error_response(self.html, request, status_of(exc), exc.message, exc.code)
        rows = [[Cell(c.name, f"/campaigns/{segment(c.id)}?lang={lang}"),
                 Cell(aw.word(lang, "campaign", c.status)),
                 Cell(" – ".join(str(d) for d in (c.period_start, c.period_end) if d) or None),
                 Cell(str(len(c.place_ids))),
                 Cell(when(c.created_at.isoformat(), self.cmdb.clock))]
                for c in found]
        heads = {"en": ("Campaign", "Status", "Period", "Places", "Created"),
                 "zh-CN": ("盘点", "状态", "周期", "地点数", "创建时间")}[lang]
        return render_list(
            self.html, request, lang, title=heads[0] + ("s" if lang == "en" else ""),
            action="/campaigns", headers=heads, rows=rows,
            next_after=found[-1].id if more and found else None,
            keep={"status": status} if status else {}, filter_name="status",
            filter_label=heads[1],
            filter_options=[(s, aw.word(lang, "campaign", s)) for s in STATUSES])

    async def seen(self, request: Request) -> Response:
        """The asset page's "seen here": a sighting for the open campaign, then back."""
        tag = request.path_params["asset_tag"]
        form = await read_page_form(request)
        lang = form_text(form, "lang", 10)
        lang = lang if lang in LANGUAGES else language(request)
        page = f"/a/{segment(tag)}"
        try:
            result = await self.cmdb.campaigns.record_sightings(page_actor(request), [
                SightingInput(tag, form_text(form, "place", 200) or None,
                              form_text(form, "condition", 100) or None,
                              form_text(form, "note") or None,
                              form_time(form_text(form, "seen_at", 40)))], "page")
        except CmdbError as exc:
            return error_response(self.html, request, status_of(exc), exc.message, exc.code,
                                  back=f"{page}?lang={lang}")
        msg = "no_campaign" if result.unscoped else "recorded"
        return RedirectResponse(f"{page}?" + urlencode({"lang": lang, "msg": msg}),
                                status_code=303)

    async def report_csv(self, request: Request) -> Response:
        from cmdb.services.audit.report import gather, to_csv

        data = await gather(self.cmdb, request.path_params["id"])  # unknown: 404 NOT_FOUND
        text = await run_cpu(to_csv, data)  # CPU work: off the server (cmdb.api.web.cpu)
        return Response("\ufeff" + text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=report.csv"})

    async def report_pdf(self, request: Request) -> Response:
        from cmdb.services.audit.report import gather, to_pdf

        data = await gather(self.cmdb, request.path_params["id"])  # unknown: 404 NOT_FOUND
        # seconds of CPU: off the server (cmdb.api.web.cpu); in the page's language
        pdf = await run_cpu(to_pdf, data, language(request))
        return Response(pdf, media_type="application/pdf",
                        headers={"Content-Disposition": "inline; filename=report.pdf"})


def form_time(text: str) -> datetime | None:
    """The form's "when" (a browser's ``2026-07-10T10:03``, local time in the CMDB's
    zone, as the sighting service reads it); blank is now."""
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"when: {text.strip()!r} is not a date and time such as "
                              "2026-07-10 10:03", field="seen_at") from None


async def sightings_shown(cmdb: Cmdb, ci: CI, names: dict[str, str] | None = None,
                          ) -> list[dict[str, Any]]:
    """The CI's last sightings as the pages show them (when, by whom, in which campaign,
    where); ``names``: campaign names already known (the rest are read)."""
    sightings = await cmdb.campaigns.sightings_of(ci.id, first=5)
    names = dict(names or {})
    campaign_ids = {s.campaign_id for s in sightings
                    if s.campaign_id and s.campaign_id not in names}
    if campaign_ids:
        for campaign in (await cmdb.campaigns.get_many(sorted(campaign_ids))).values():
            names[campaign.id] = campaign.name
    place_ids = sorted({s.place_id for s in sightings if s.place_id})
    place_names = {k: v.name for k, v in (await cmdb.store.get_cis(place_ids)).items()}
    return [{"at": when(s.seen_at, cmdb.clock), "by": s.auditor,
             "campaign": names.get(str(s.campaign_id), "—"), "source": s.source,
             "place": place_names.get(str(s.place_id)) or s.place_text}
            for s in sightings]


async def audit_panel(cmdb: Cmdb, ci: CI, lang: str, msg: str | None,
                      may_record: bool = True) -> dict[str, Any]:
    """What the asset page shows for audits: the "seen here" form (for someone who may
    record a sighting, while an open campaign covers the asset) and the last sightings."""
    t = TEXT[lang]
    scopes = await cmdb.campaigns.scopes()
    covered = bool(await cmdb.campaigns.covering(ci, scopes)) if may_record else False
    sightings = await sightings_shown(cmdb, ci, {s.id: s.campaign.name for s in scopes})
    path = await cmdb.cis.location_path(ci)
    return {"at": t, "places": [(p.id, " / ".join(x.name for x in path[: i + 1]))
                                for i, p in enumerate(path)][::-1],
            "sightings": sightings,
            "message": t[msg] if msg in SEEN_MESSAGES else None,
            "tone": SEEN_MESSAGES.get(msg or ""), "open": covered}
