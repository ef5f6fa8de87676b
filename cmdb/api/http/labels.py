"""Asset labels over plain HTTP, for browsers, printers' scripts and ``curl``.

- ``GET /labels/{asset_tag}.png|.svg|.zpl``: one label (``?template=``, ``?dpi=``).
- ``POST /labels``: a batch chosen by ``assetTags``, ``ids`` or a ``filter`` (the
  ``cis`` filter, plus ``neverPrinted``), returned as PDF (or ZPL with
  ``"format": "zpl"``); printing is recorded on each CI unless ``record`` is false.

Errors are JSON ``{"code": ..., "message": ...}`` with a fitting status
(unknown tag: 404 ``NOT_FOUND``; unknown template: 400 ``TEMPLATE_NOT_FOUND``).
"""

from __future__ import annotations

import logging
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from cmdb.api.web.errors import coded_errors
from cmdb.api.web.jsonsafe import load_json
from cmdb.api.web.uploads import read_body
from cmdb.errors import (
    AuthenticationError,
    NotFoundError,
    ValidationError,
)
from cmdb.model.access import Principal
from cmdb.model.records import Actor, Channel
from cmdb.services import Cmdb
from cmdb.services.cis.inputs import CIFilterInput
from cmdb.services.labels.service import MAX_BATCH, LabelSelection, SingleFormat
from cmdb.settings import Settings

log = logging.getLogger("cmdb.api")

MEDIA_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    # ZPL has no registered media type; as text it shows in a browser and pipes to a printer.
    "zpl": "text/plain; charset=utf-8",
}
def disposition(kind: str, filename: str) -> str:
    """A Content-Disposition that keeps non-ASCII file names (e.g. Chinese tags) intact."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\/' else "_"
                       for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def request_actor(request: Request) -> Actor:
    """Who asks: the principal the access middleware found (see ``cmdb.api.http.access``)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise AuthenticationError("not signed in")
    return Actor(name=principal.name, channel=Channel.API)


class FilterBody(BaseModel):
    """The ``cis`` filter as JSON, in the GraphQL API's spelling."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    class_: str | None = Field(default=None, alias="class")
    classes: list[str] | None = None
    states: list[str] | None = None
    location_id: str | None = Field(default=None, alias="locationId")
    owner_id: str | None = Field(default=None, alias="ownerId")
    text: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] | None = None
    ids: list[str] | None = Field(default=None, max_length=MAX_BATCH)
    search: str | None = Field(default=None, max_length=200)

    def to_input(self) -> CIFilterInput:
        return CIFilterInput(
            class_name=self.class_, classes=self.classes, states=self.states,
            location_id=self.location_id, owner_id=self.owner_id, text=self.text,
            attributes=self.attributes, ids=self.ids, search=self.search,
        )


class BatchBody(BaseModel):
    """What ``POST /labels`` accepts."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    asset_tags: list[str] | None = Field(default=None, alias="assetTags", max_length=MAX_BATCH)
    ids: list[str] | None = Field(default=None, max_length=MAX_BATCH)
    filter: FilterBody | None = None
    never_printed: bool = Field(default=False, alias="neverPrinted")
    template: str | None = Field(default=None, max_length=100)
    start_offset: int = Field(default=0, ge=0, alias="startOffset")
    format: Literal["pdf", "zpl"] = "pdf"
    dpi: int | None = None
    record: bool = True


def _body(raw: bytes) -> BatchBody:
    data = load_json(raw or b"null", "the body")  # bounded: nesting, numbers, texts
    if not isinstance(data, dict):
        raise ValidationError("the body must be a JSON object", field="body")
    try:
        return BatchBody.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ValidationError(f"{where}: {first['msg']}", field=where) from exc


def _int_param(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number, not {text!r}",
                              field=name) from None


class LabelEndpoints:
    """The label routes of one CMDB."""

    def __init__(self, cmdb: Cmdb, settings: Settings) -> None:
        self.cmdb = cmdb
        self.settings = settings

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/labels", coded_errors(self.batch), methods=["POST"]),
            Route("/labels/{name:path}", coded_errors(self.one), methods=["GET"]),
        ]

    async def one(self, request: Request) -> Response:
        """``GET /labels/{asset_tag}.{png,svg,zpl}``: one asset's label."""
        name: str = request.path_params["name"]
        tag, _, ext = name.rpartition(".")
        if not tag or ext not in ("png", "svg", "zpl"):
            raise NotFoundError(f"no label at {request.url.path}: ask for "
                                "/labels/{asset tag}.png, .svg or .zpl", path=request.url.path)
        fmt: SingleFormat = "png" if ext == "png" else "svg" if ext == "svg" else "zpl"
        labels = self.cmdb.labels
        ci = await labels.by_tag(tag)
        body = await labels.render_one(ci, fmt, request.query_params.get("template") or None,
                                       _int_param(request, "dpi"))
        return Response(body, media_type=MEDIA_TYPES[fmt], headers={
            "Content-Disposition": disposition("inline", f"{tag}.{fmt}"),
            "Cache-Control": "no-cache",
        })

    async def batch(self, request: Request) -> Response:
        """``POST /labels``: many labels as one PDF (or ZPL), recorded as printed."""
        body = _body(await read_body(request, self.settings.max_body_bytes))
        selection = LabelSelection(
            ids=tuple(body.ids) if body.ids is not None else None,
            asset_tags=tuple(body.asset_tags) if body.asset_tags is not None else None,
            filter=body.filter.to_input() if body.filter is not None else None,
            never_printed=body.never_printed,
        )
        labels = self.cmdb.labels
        found = await labels.select(selection)
        out = await labels.render_batch(found.cis, body.format, body.template,
                                        body.start_offset, body.dpi)
        record = body.record and request.query_params.get("record", "").lower() != "false"
        if record:
            await labels.record_printed(request_actor(request), [c.id for c in found.cis])
        template = labels.template(body.template, body.format).name
        return Response(out, media_type=MEDIA_TYPES[body.format], headers={
            "Content-Disposition": disposition("attachment", f"labels-{template}.{body.format}"),
            "X-Label-Count": str(len(found.cis)),
            "X-Labels-Untagged": str(len(found.untagged)),
            "X-Labels-Recorded": str(len(found.cis) if record else 0),
            "Cache-Control": "no-store",
        })
