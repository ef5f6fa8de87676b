"""The asset page a label's QR code opens: ``GET /a/{asset_tag}``.

A small server-rendered page for a phone in a server room: tag, name, class,
state, location, owner, model and serial, when last audited. It speaks
Chinese (zh-CN) or English, chosen from the browser's ``Accept-Language`` or
``?lang=``; it loads nothing from anywhere (inline CSS, no script). A signed-in
auditor (or admin) sees the "seen here" form while an open campaign covers the asset
(its class and the place it is registered in).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from cmdb.api.pages.words import CONSOLE
from cmdb.api.web.error_pages import error_response
from cmdb.api.web.errors import status_of
from cmdb.api.web.forms import form_text, read_page_form
from cmdb.api.web.html import LANGUAGES, Html, language, segment, when
from cmdb.errors import CmdbError, NotFoundError, ValidationError
from cmdb.model.access import Principal, Role, allows
from cmdb.model.queries import CIOrder, CIOrderField
from cmdb.model.records import CI, Actor, Channel, Relationship
from cmdb.services import Cmdb
from cmdb.services.cis.inputs import CIFilterInput

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
        return [Route("/a/{asset_tag:path}", self.page, methods=["GET"])]

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
            state_tone=self.cmdb.registry.state_tone(ci.state).value,  # `tone:` in the schema
        )

    async def rows(self, ci: CI, lang: str) -> list[Row]:
        """What a person scanning the label needs, in ``lang``."""
        t = TEXT[lang]
        path = await self.cmdb.cis.location_path(ci)
        owner = (await self.cmdb.labels.owners([ci])).get(ci.id)
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


# --------------------------------------------------------------------------------------------
# The console's CI pages: search and browse (/cis), one CI (/cis/{id}) with its edit forms.

PAGE_SIZE = 50
SORTS = {"name": CIOrderField.NAME, "asset_tag": CIOrderField.ASSET_TAG,
         "updated": CIOrderField.UPDATED_AT, "created": CIOrderField.CREATED_AT}


@dataclass(frozen=True)
class AttributeRow:
    """An attribute on the CI page: its label, value and which source set it, when."""

    name: str
    label: str
    value: str | None
    source: str | None
    at: str | None
    editable: bool
    options: tuple[str, ...] | None


@dataclass(frozen=True)
class Link:
    """A relationship on the CI page: its id, type label and the CI at the other end."""

    id: str
    type: str
    type_label: str
    peer_id: str
    peer_name: str
    peer_tag: str | None


def console_actor(request: Request) -> Actor:
    principal = getattr(request.state, "principal", None)
    return Actor(name=str(getattr(principal, "name", None) or "local"), channel=Channel.API)


def may_edit(request: Request) -> bool:
    principal = getattr(request.state, "principal", None)
    return isinstance(principal, Principal) and allows(principal.role, Role.EDITOR)


def shown(value: Any) -> str | None:
    """An attribute's value as text: lists joined, absent as ``None``."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class CIPages:
    """``/cis`` (search and browse) and ``/cis/{id}`` (one CI, with edit forms)."""

    def __init__(self, cmdb: Cmdb, html: Html) -> None:
        self.cmdb = cmdb
        self.html = html

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/cis", self.search, methods=["GET"]),
            Route("/cis/{ci_id}", self.page, methods=["GET"]),
            Route("/cis/{ci_id}/edit", self.edit, methods=["POST"]),
            Route("/cis/{ci_id}/state", self.move, methods=["POST"]),
            Route("/cis/{ci_id}/relate", self.relate, methods=["POST"]),
            Route("/cis/{ci_id}/unrelate", self.unrelate, methods=["POST"]),
        ]

    def _class_label(self, name: str, lang: str) -> str:
        info = self.cmdb.registry.classes.get(name)
        return (info.definition.label.get(lang) if info else None) or name

    def _state_label(self, name: str, lang: str) -> str:
        state = self.cmdb.registry.lifecycle.states.get(name)
        return (state.label.get(lang) if state else None) or name

    async def search(self, request: Request) -> Response:
        lang = language(request)
        params = request.query_params
        q = params.get("q", "").strip()[:200]
        class_name = params.get("class", "")
        state = params.get("state", "")
        sort = params.get("sort", "name")
        after = params.get("after") or None
        registry = self.cmdb.registry
        filt = CIFilterInput(
            search=q or None,
            class_name=class_name if class_name in registry.classes else None,
            states=[state] if state in registry.lifecycle.states else None,
            location_id=params.get("location") or None, owner_id=params.get("owner") or None,
        )
        order = CIOrder(SORTS.get(sort, CIOrderField.NAME),
                        descending=sort in ("updated", "created"))
        try:
            page = await self.cmdb.queries.page(filt, order, PAGE_SIZE, after)
        except CmdbError as exc:
            return error_response(self.html, request, status_of(exc), exc.message, exc.code,
                                  back="/cis")
        if len(page.items) == 1 and not after and q:
            return RedirectResponse(f"/cis/{segment(page.items[0].id)}", status_code=303)
        export_filter = {k: v for k, v in (("search", q), ("class", class_name),
                                            ("state", state)) if v}
        keep = {k: v for k, v in (("q", q), ("class", class_name), ("state", state),
                                  ("sort", sort)) if v}
        next_url = (f"/cis?{urlencode({**keep, 'after': page.cursors[-1]})}"
                    if page.has_next and page.cursors else None)
        rows = [{"ci": ci, "class_label": self._class_label(ci.class_name, lang),
                 "state_label": self._state_label(ci.state, lang),
                 "tone": self.cmdb.registry.state_tone(ci.state).value} for ci in page.items]
        classes = sorted(((n, self._class_label(n, lang)) for n, info in
                          registry.classes.items() if not info.abstract), key=lambda c: c[1])
        states = [(s, self._state_label(s, lang)) for s in registry.lifecycle.states]
        other = "en" if lang == "zh-CN" else "zh-CN"
        return self.html.render(
            request, "cis.html", lang=lang, t=CONSOLE[lang], rows=rows, q=q,
            class_name=class_name, state=state, sort=sort, classes=classes, states=states,
            next_url=next_url, first_url=f"/cis?{urlencode(keep)}" if after else None,
            export={fmt: "/cis/export?" + urlencode({**export_filter, "format": fmt,
                                                      "lang": lang})
                    for fmt in ("csv", "xlsx")},
            switch_url=f"/cis?{urlencode({**keep, 'lang': other})}")

    async def page(self, request: Request) -> Response:
        lang = language(request)
        t = CONSOLE[lang]
        ci_id: str = request.path_params["ci_id"]
        ci = await self.cmdb.queries.get(ci_id=ci_id)
        if ci is None:
            return error_response(self.html, request, 404, f"no CI has the id {ci_id}",
                                  "NOT_FOUND", back="/cis")
        registry = self.cmdb.registry
        info = registry.classes.get(ci.class_name)
        declared = dict(info.attributes) if info else {}
        attributes = []
        for name in [*declared, *sorted(set(ci.attributes) - set(declared))]:
            spec = declared.get(name)
            prov = ci.provenance.get(name)
            attributes.append(AttributeRow(
                name=name, label=(spec.label.get(lang) if spec and spec.label else None) or name,
                value=shown(ci.attributes.get(name)),
                source=prov.source if prov else None,
                at=when(prov.at.isoformat(), self.cmdb.clock) if prov else None,
                editable=bool(spec) and not (spec.system if spec else True)
                and not (spec.list if spec else False),
                options=spec.values if spec else None))
        out = (await self.cmdb.store.relationships_of([ci.id], "out")).get(ci.id, [])
        into = (await self.cmdb.store.relationships_of([ci.id], "in")).get(ci.id, [])
        peers = await self.cmdb.store.get_cis(
            sorted({r.target_id for r in out} | {r.source_id for r in into}))

        def links(rels: list[Relationship], far: str) -> dict[str, list[Link]]:
            grouped: dict[str, list[Link]] = {}
            for r in sorted(rels, key=lambda r: (r.type, r.id)):
                peer = peers.get(getattr(r, far))
                kind = registry.relationship_types.get(r.type)
                grouped.setdefault(r.type, []).append(Link(
                    r.id, r.type, (kind.label.get(lang) if kind else None) or r.type,
                    getattr(r, far), peer.name if peer else getattr(r, far),
                    peer.asset_tag if peer else None))
            return grouped

        outgoing, incoming = links(out, "target_id"), links(into, "source_id")
        history = await self.cmdb.store.history(ci_id=ci.id, first=30)
        events = [{"at": when(h.at.isoformat(), self.cmdb.clock), "actor": h.actor,
                   "channel": str(h.channel), "action": str(h.action), "reason": h.reason,
                   "changes": [(c.field, shown(c.before), shown(c.after)) for c in h.changes]}
                  for h in history.items]
        from cmdb.api.pages.audit import sightings_shown

        audits = await sightings_shown(self.cmdb, ci)
        editor = may_edit(request)
        types = sorted((n, d.label.get(lang) or n) for n, d in
                       registry.relationship_types.items()
                       if info is not None and any(info.is_a(c) for c in d.from_))
        other = "en" if lang == "zh-CN" else "zh-CN"
        return self.html.render(
            request, "ci.html", lang=lang, t=t, ci=ci, attributes=attributes,
            class_label=self._class_label(ci.class_name, lang),
            state_label=self._state_label(ci.state, lang),
            tone=self.cmdb.registry.state_tone(ci.state).value,
            created=when(ci.created_at.isoformat(), self.cmdb.clock),
            updated=when(ci.updated_at.isoformat(), self.cmdb.clock),
            outgoing=outgoing, incoming=incoming,
            links=[(link, "→") for group in outgoing.values() for link in group]
            + [(link, "←") for group in incoming.values() for link in group],
            events=events, editor=editor, types=types, audits=audits,
            moves=[(s, self._state_label(s, lang))
                   for s in registry.allowed_transitions(ci.state)],
            msg=request.query_params.get("msg"),
            switch_url=f"/cis/{segment(ci.id)}?lang={other}")

    async def _write(self, request: Request, work: Callable[[FormData, Actor], Awaitable[Any]]
                     ) -> Response:
        ci_id: str = request.path_params["ci_id"]
        form = await read_page_form(request)
        lang = form_text(form, "lang", 10)
        back = f"/cis/{segment(ci_id)}"
        try:
            await work(form, console_actor(request))
        except CmdbError as exc:
            return error_response(self.html, request, status_of(exc), exc.message, exc.code,
                                  back=back)
        query = urlencode({"msg": "saved", **({"lang": lang} if lang in LANGUAGES else {})})
        return RedirectResponse(f"{back}?{query}", status_code=303)

    async def edit(self, request: Request) -> Response:
        """Fields and attributes, at the version the editor saw (a stale one is refused)."""
        ci_id: str = request.path_params["ci_id"]

        async def work(form: FormData, actor: Actor) -> None:
            ci = await self.cmdb.queries.get(ci_id=ci_id)
            if ci is None:
                raise NotFoundError(f"no CI has the id {ci_id}")
            try:
                version = int(form_text(form, "version", 12))
            except ValueError:
                raise ValidationError("the form has no version", field="version") from None
            changes: dict[str, Any] = {}
            for name in ("name", "asset_tag", "serial_number"):
                if name in form:
                    value = form_text(form, name, 500).strip()
                    if value != (getattr(ci, name) or ""):
                        changes[name] = value or None
            attributes: dict[str, Any] = {}
            for key in form:
                if key.startswith("attr."):
                    name = key[5:]
                    value = form_text(form, key, 2000).strip()
                    if value != (shown(ci.attributes.get(name)) or ""):
                        attributes[name] = value or None
            if attributes:
                changes["attributes"] = attributes
            if changes:
                await self.cmdb.cis.update(actor, ci_id, version, changes,
                                           form_text(form, "reason") or None)

        return await self._write(request, work)

    async def move(self, request: Request) -> Response:
        ci_id: str = request.path_params["ci_id"]

        async def work(form: FormData, actor: Actor) -> None:
            version = form_text(form, "version", 12)
            await self.cmdb.cis.transition(
                actor, ci_id, form_text(form, "to", 100), form_text(form, "reason") or None,
                int(version) if version.isdigit() else None)

        return await self._write(request, work)

    async def relate(self, request: Request) -> Response:
        ci_id: str = request.path_params["ci_id"]

        async def work(form: FormData, actor: Actor) -> None:
            target = form_text(form, "target", 200).strip()
            peer = (await self.cmdb.queries.get(asset_tag=target)
                    or await self.cmdb.queries.get(ci_id=target)) if target else None
            if peer is None:
                raise ValidationError(f"no CI has the asset tag or id {target!r}",
                                      field="target")
            await self.cmdb.cis.relate(actor, ci_id, form_text(form, "type", 100), peer.id)

        return await self._write(request, work)

    async def unrelate(self, request: Request) -> Response:
        async def work(form: FormData, actor: Actor) -> None:
            await self.cmdb.cis.unrelate(actor, form_text(form, "relationship", 100),
                                         form_text(form, "reason") or None)

        return await self._write(request, work)
