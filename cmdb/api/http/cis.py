"""The register export over HTTP: ``GET /cis/export``, streamed.

Query parameters: ``format`` (``csv``, default, or ``xlsx``), ``lang`` (``zh-CN``,
default, or ``en``), ``encoding`` (CSV: ``utf-8-sig``, default, or ``gb18030``), and the
``cis`` filter as people type it: ``class`` and ``state`` (repeatable; names or labels,
服务器, 在用), ``location`` (a path 北京总部/3楼机房, an asset tag or an id), ``owner``
(a name, asset tag or id), ``text``, ``search`` (the console's query box: an IP, a
MAC, a host name or a piece of a name, tag or serial). Any signed-in role may export
(a ``GET``: reader).
The filter is checked before the first byte, so a bad one is a coded 400; then the
rows stream page by page (:mod:`cmdb.services.cis.export`).
"""

from __future__ import annotations

from typing import get_args

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from cmdb.api.http.labels import disposition
from cmdb.api.web.errors import coded_errors
from cmdb.errors import ValidationError
from cmdb.services import Cmdb
from cmdb.services.cis.export import (
    MEDIA_TYPES,
    CIExport,
    Encoding,
    Format,
    Lang,
    chunks,
    find_party,
    find_place,
)
from cmdb.services.cis.inputs import CIFilterInput


def _choice(request: Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in allowed:
        raise ValidationError(f"{name}: one of {', '.join(allowed)} (got {value[:40]!r})",
                              field=name)
    return value


class ExportEndpoints:
    """``GET /cis/export``."""

    def __init__(self, cmdb: Cmdb) -> None:
        self.cmdb = cmdb

    def routes(self) -> list[BaseRoute]:
        return [Route("/cis/export", coded_errors(self.export), methods=["GET"])]

    async def export(self, request: Request) -> Response:
        cmdb = self.cmdb
        fmt: Format = "xlsx" if _choice(request, "format", get_args(Format), "csv") == "xlsx" \
            else "csv"
        lang: Lang = "en" if _choice(request, "lang", get_args(Lang), "zh-CN") == "en" \
            else "zh-CN"
        encoding: Encoding = "gb18030" if _choice(
            request, "encoding", get_args(Encoding), "utf-8-sig") == "gb18030" else "utf-8-sig"
        q = request.query_params
        registry = cmdb.registry
        export = CIExport(cmdb.store, registry, cmdb.queries)
        location, owner = q.get("location"), q.get("owner")
        f = CIFilterInput(
            classes=[registry.resolve_class(c) or c for c in q.getlist("class")] or None,
            states=[registry.resolve_state(s) or s for s in q.getlist("state")] or None,
            location_id=await find_place(export, cmdb.imports.config.places, location)
            if location else None,
            owner_id=await find_party(export, owner) if owner else None,
            text=q.get("text") or None, search=q.get("search") or None)
        export.selection(f)  # an unknown class or state is refused before the first byte
        name = f"{'配置项' if lang == 'zh-CN' else 'cis'}.{fmt}"
        media = MEDIA_TYPES[fmt] + ("; charset=gb18030" if fmt == "csv" and
                                    encoding == "gb18030" else
                                    "; charset=utf-8" if fmt == "csv" else "")
        return StreamingResponse(
            chunks(export, f, fmt, lang=lang, encoding=encoding), media_type=media,
            headers={"Content-Disposition": disposition("attachment", name),
                     "Cache-Control": "no-store"})
