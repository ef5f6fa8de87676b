"""The asset page a label's QR code opens: ``GET /a/{asset_tag}``.

A small server-rendered page for a phone in a server room: tag, name, class,
state, location, owner, model and serial, when last audited. It speaks
Chinese (zh-CN) or English, chosen from the browser's ``Accept-Language`` or
``?lang=``; it loads nothing from anywhere (inline CSS, no script). A signed-in
auditor (or admin) sees the "seen here" form while an open campaign covers the asset
(its class and the place it is registered in).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmdb.api.web.html import Html, language, segment, when
from cmdb.model.access import Principal, Role, allows
from cmdb.model.records import CI
from cmdb.services import Cmdb

# Badge colours by lifecycle state; states a schema adds get the neutral one.
STATE_TONES = {"deployed": "ok", "in_stock": "info", "received": "info", "maintenance": "warn",
               "lost": "bad", "stolen": "bad", "retired": "muted", "disposed": "muted"}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "asset": "Asset", "class": "Class", "state": "State", "location": "Location",
        "owner": "Owner", "model": "Model", "serial": "Serial number",
        "audited": "Last audited", "never_audited": "Never audited",
        "printed": "Label printed", "none": "—",
        "not_found": "Asset not found",
        "not_found_before": "No asset in the CMDB carries the tag", "not_found_after": ".",
        "not_found_hint": "Check the tag on the label. If it is right, the asset may not be "
                          "registered yet: please tell the IT asset team.",
    },
    "zh-CN": {
        "asset": "资产", "class": "类别", "state": "状态", "location": "位置",
        "owner": "责任人/部门", "model": "型号", "serial": "序列号",
        "audited": "最近盘点", "never_audited": "从未盘点",
        "printed": "标签打印时间", "none": "—",
        "not_found": "未找到该资产",
        "not_found_before": "配置管理数据库中没有编号为", "not_found_after": " 的资产。",
        "not_found_hint": "请核对标签上的编号。如编号无误，该资产可能尚未登记，"
                          "请联系IT资产管理员。",
    },
}


@dataclass(frozen=True)
class Row:
    """One line of the page: a label and its value (``None`` shows as a dash).

    ``parts`` is a path (outermost first) shown with separators, wrapping only
    between parts, so that "3楼机房" never breaks in two.
    """

    label: str
    value: str | None
    mono: bool = False
    parts: tuple[str, ...] = ()


class AssetPages:
    """Renders the asset pages of one CMDB."""

    def __init__(self, cmdb: Cmdb, html: Html) -> None:
        self.cmdb = cmdb
        self.html = html

    def routes(self) -> list[BaseRoute]:
        from cmdb.api.pages.audit import CampaignPages

        return [*CampaignPages(self.cmdb, self.html).routes(),
                Route("/a/{asset_tag:path}", self.page, methods=["GET"])]

    async def page(self, request: Request) -> Response:
        tag: str = request.path_params["asset_tag"]
        lang = language(request)
        t = TEXT[lang]
        other = "en" if lang == "zh-CN" else "zh-CN"
        common: dict[str, Any] = {"lang": lang, "t": t, "tag": tag,
                  "switch_url": f"/a/{segment(tag)}?lang={other}"}
        ci = await self.cmdb.store.find_ci_by_asset_tag(tag) if tag else None
        if ci is None:
            return self.html.render(request, "asset_not_found.html", http_status=404, **common)
        from cmdb.api.pages.audit import audit_panel

        rows = await self.rows(ci, lang)
        state = self.cmdb.registry.lifecycle.states.get(ci.state)
        principal = getattr(request.state, "principal", None)
        may_record = isinstance(principal, Principal) and allows(principal.role, Role.AUDITOR)
        return self.html.render(
            request, "asset.html", **common, ci=ci, rows=rows,
            audit=await audit_panel(self.cmdb, ci, lang, request.query_params.get("msg"),
                                    may_record),
            state_label=state.label.get(lang) if state else ci.state,
            state_tone=STATE_TONES.get(ci.state, "neutral"),
        )

    async def rows(self, ci: CI, lang: str) -> list[Row]:
        """What a person scanning the label needs, in ``lang``."""
        t = TEXT[lang]
        labels = self.cmdb.labels
        path = await labels.location_path(ci)
        owner = (await labels.owners([ci])).get(ci.id)
        info = self.cmdb.registry.classes.get(ci.class_name)
        attrs = ci.attributes
        maker = attrs.get("manufacturer")
        vendor = self.cmdb.registry.vendors.canonical(str(maker)) if maker else None
        if vendor is not None:  # the vendor's name in the reader's language (联想 / Lenovo)
            maker = vendor.label.get(lang) or vendor.name
        model = " ".join(str(p) for p in (maker, attrs.get("model")) if p)
        rows = [
            Row(t["class"], info.definition.label.get(lang) if info else ci.class_name),
            Row(t["location"], " / ".join(p.name for p in path) or None,
                parts=tuple(p.name for p in path)),
            Row(t["owner"], owner),
            Row(t["model"], model or None),
            Row(t["serial"], ci.serial_number, mono=True),
            Row(t["audited"], when(attrs.get("last_audited_at"), self.cmdb.clock)
                or t["never_audited"]),
        ]
        printed = when(attrs.get("label_printed_at"), self.cmdb.clock)
        if printed:
            rows.append(Row(t["printed"], printed))
        return rows
