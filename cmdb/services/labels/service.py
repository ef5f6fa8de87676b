"""Asset labels for CIs: what each label says, which CIs to print, who printed them.

The drawing is done by :mod:`labels` (pure, no database); this service
feeds it from the store and records ``label_printed_at``/``label_printed_by``
through :class:`~cmdb.services.cis.service.CIService`, so printing shows in history.
Rendering is CPU work, so it runs in a worker thread and never blocks the
event loop of the web server.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from pydantic import ValidationError as PydanticValidationError

import labels as drawing
from cmdb.errors import LabelRenderError, LimitExceededError, NotFoundError, ValidationError
from cmdb.model.queries import CIOrder, CIOrderField, CISelection, Cursor
from cmdb.model.records import CI, Actor, now
from cmdb.model.registry import Registry
from cmdb.services.cis.inputs import CIFilterInput
from cmdb.services.cis.places import location_path
from cmdb.services.cis.queries import CIQueries
from cmdb.services.cis.service import CIService
from cmdb.settings import Settings
from cmdb.store.base import Store

SingleFormat = Literal["png", "svg", "zpl"]
BatchFormat = Literal["pdf", "zpl"]
Progress = Callable[[int, int], None]

PRINTED_AT, PRINTED_BY = "label_printed_at", "label_printed_by"
MAX_BATCH = 5000  # labels in one print run: about 10 s of rendering
ZPL_DPIS = (203, 300)
_PAGE = 500
_FIELD_LIMIT = 200  # LabelData's longest line
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class LabelSelection:
    """Which CIs to print: these ids, these asset tags, or those a filter finds.

    ``never_printed`` narrows a filter to CIs without ``label_printed_at``.
    At most one of ``ids``, ``asset_tags`` and ``filter`` is given.
    """

    ids: tuple[str, ...] | None = None
    asset_tags: tuple[str, ...] | None = None
    filter: CIFilterInput | None = None
    never_printed: bool = False  # alone: every CI never printed

    def __post_init__(self) -> None:
        lists = [n for n in ("ids", "asset_tags") if getattr(self, n) is not None]
        if len(lists) + (self.filter is not None) > 1 or not (
                lists or self.filter is not None or self.never_printed):
            raise ValidationError(
                "say which CIs to print: ids, asset tags, or a filter (or never printed)",
                field="selection",
            )
        if lists and self.never_printed:
            raise ValidationError("never printed narrows a filter, not a list of CIs",
                                  field="neverPrinted")


@dataclass
class LabelBatch:
    """The CIs a selection found: those to print, and those without an asset tag."""

    cis: list[CI]
    untagged: list[CI]


@contextmanager
def label_errors(what: str = "label", code: str = "LABEL_DATA_INVALID") -> Iterator[None]:
    """Turn the label layer's errors (and its models' refusals) into coded CMDB errors."""
    try:
        yield
    except drawing.LabelError as exc:
        missing = getattr(exc, "missing", None)
        raise LabelRenderError(exc.message, exc.code, missing=missing) from exc
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LabelRenderError(f"{what}: {where}: {first['msg']}", code,
                               field=where or None) from exc


def _line(value: Any) -> str:
    """An attribute value as one label line: text only, within the label's limit."""
    if value is None:
        return ""
    text = _CONTROL.sub("", value if isinstance(value, str) else str(value))
    return text if len(text) <= _FIELD_LIMIT else text[: _FIELD_LIMIT - 1] + "…"


def asset_page_url(base_url: str, asset_tag: str) -> str:
    """The address of an asset's page, as a label's QR holds it."""
    return f"{base_url.rstrip('/')}/a/{quote(asset_tag, safe='')}"


def label_url(base_url: str, asset_tag: str, fmt: str = "png") -> str:
    """The address of one asset's label image (``png``, ``svg`` or ``zpl``)."""
    return f"{base_url.rstrip('/')}/labels/{quote(asset_tag, safe='')}.{fmt}"


class LabelService:
    """Printing asset labels for CIs, and the facts a scan of one shows."""

    def __init__(self, store: Store, registry: Registry, cis: CIService, queries: CIQueries,
                 settings: Settings) -> None:
        self.store = store
        self.registry = registry
        self.cis = cis
        self.queries = queries
        self.settings = settings

    # ---- configuration -----------------------------------------------------------
    def options(self) -> drawing.LabelOptions:
        """The print options this CMDB is configured with (QR content, organisation)."""
        with label_errors("label settings (CMDB_*)", "LABEL_OPTION_INVALID"):
            return drawing.LabelOptions(
                qr_content=self.settings.label_qr_content,
                public_base_url=self.settings.public_base_url,
                organisation=self.settings.organisation_name or None,
            )

    def templates(self) -> list[drawing.LabelTemplate]:
        """Every label template, built-in and configured, by name."""
        with label_errors():
            return [t for _, t in sorted(drawing.load_templates().items())]

    def template(self, name: str | None, fmt: str) -> drawing.LabelTemplate:
        """The template called ``name``, or the default one for ``fmt``."""
        default = drawing.DEFAULT_ZPL_TEMPLATE if fmt == "zpl" else drawing.DEFAULT_TEMPLATE
        with label_errors():
            return drawing.get_template(name or default)

    # ---- finding CIs ---------------------------------------------------------------
    async def by_tag(self, asset_tag: str) -> CI:
        """The CI carrying ``asset_tag``; a coded NOT_FOUND otherwise."""
        ci = await self.store.find_ci_by_asset_tag(asset_tag)
        if ci is None:
            raise NotFoundError(f"no CI with asset tag {asset_tag!r}", assetTag=asset_tag)
        return ci

    async def select(self, selection: LabelSelection) -> LabelBatch:
        """The CIs to print: given ones in the order given, a filter's in asset-tag order."""
        self._check_size(len(selection.ids or selection.asset_tags or ()))
        if selection.ids is not None:
            found = await self.store.get_cis(list(dict.fromkeys(selection.ids)))
            missing = [i for i in selection.ids if i not in found]
            if missing:
                raise NotFoundError(f"no CI with id {missing[0]!r}", id=missing[0],
                                    missing=missing)
            cis = [found[i] for i in dict.fromkeys(selection.ids)]
            untagged = [c for c in cis if not c.asset_tag]
            if untagged:
                raise ValidationError(
                    f"CI {untagged[0].name} ({untagged[0].id}) has no asset tag; give it one "
                    "to print a label", id=untagged[0].id, field="assetTag",
                )
        elif selection.asset_tags is not None:
            cis, missing = [], []
            for tag in dict.fromkeys(selection.asset_tags):
                ci = await self.store.find_ci_by_asset_tag(tag)
                if ci is None:
                    missing.append(tag)
                else:
                    cis.append(ci)
            if missing:
                raise NotFoundError(f"no CI with asset tag {missing[0]!r}",
                                    assetTag=missing[0], missing=missing)
        else:
            cis = await self._filtered(selection)
        return LabelBatch([c for c in cis if c.asset_tag], [c for c in cis if not c.asset_tag])

    async def _filtered(self, selection: LabelSelection) -> list[CI]:
        query = self.queries.resolve(selection.filter)
        if selection.never_printed:
            query = dataclasses.replace(
                query, missing_attributes=(*query.missing_attributes, PRINTED_AT))
        self._check_size(await self.store.count_cis(query))
        return await self._all(query)

    async def _all(self, query: CISelection) -> list[CI]:
        order = CIOrder(CIOrderField.ASSET_TAG)
        out: list[CI] = []
        after: Cursor | None = None
        while True:
            page = await self.store.list_cis(query, order, _PAGE, after)
            out.extend(page.items)
            if not page.has_next or not page.cursors:
                return out
            after = page.cursors[-1]

    @staticmethod
    def _check_size(count: int) -> None:
        if count > MAX_BATCH:
            raise LimitExceededError(
                f"{count} CIs match; print at most {MAX_BATCH} labels at a time "
                "(narrow the filter, e.g. by location or class)",
                limit=MAX_BATCH, count=count,
            )

    # ---- what a label and the asset page say -------------------------------------------
    async def owners(self, cis: Sequence[CI]) -> dict[str, str]:
        """Per CI id: who owns it (the target of its owner relationship), else its
        ``department``."""
        rels = await self.store.relationships_of([c.id for c in cis], "out",
                                                 [self.registry.owner_type])
        target_of = {ci_id: rs[0].target_id for ci_id, rs in rels.items() if rs}
        targets = await self.store.get_cis(sorted(set(target_of.values()))) if target_of else {}
        out: dict[str, str] = {}
        for ci in cis:
            owner = targets.get(target_of.get(ci.id, ""))
            name = owner.name if owner else ci.attributes.get("department")
            if name:
                out[ci.id] = str(name)
        return out

    async def location_path(self, ci: CI) -> list[CI]:
        """Where the CI is, outermost place first (see
        :func:`~cmdb.services.cis.places.location_path`)."""
        return await location_path(self.store, self.registry, ci)

    async def label_data(self, cis: Sequence[CI]) -> list[drawing.LabelData]:
        """What each CI's label says: tag, name, model, serial, owner or department."""
        owners = await self.owners(cis)
        out: list[drawing.LabelData] = []
        for ci in cis:
            if not ci.asset_tag:
                raise ValidationError(
                    f"CI {ci.name} ({ci.id}) has no asset tag; give it one to print a label",
                    id=ci.id, field="assetTag",
                )
            with label_errors(f"label for {ci.asset_tag}"):
                out.append(drawing.LabelData(
                    asset_tag=ci.asset_tag, name=_line(ci.name),
                    model=_line(ci.attributes.get("model")),
                    serial_number=_line(ci.serial_number), owner=_line(owners.get(ci.id)),
                ))
        return out

    # ---- rendering and recording -------------------------------------------------------
    async def render_one(
        self, ci: CI, fmt: SingleFormat, template: str | None = None, dpi: int | None = None
    ) -> bytes:
        """One CI's label as PNG (``dpi`` default 300), SVG, or ZPL (203 or 300 dpi)."""
        tpl = self.template(template, fmt)
        (data,) = await self.label_data([ci])
        options = self.options()
        if fmt == "zpl":
            zpl_dpi = self._zpl_dpi(dpi)
            return await self._draw(lambda: drawing.render_zpl(data, options, zpl_dpi, tpl))
        if fmt == "svg":
            return await self._draw(lambda: drawing.render_svg(data, options, tpl))
        return await self._draw(lambda: drawing.render_png(data, options, tpl, dpi or 300))

    async def render_batch(
        self, cis: Sequence[CI], fmt: BatchFormat, template: str | None = None,
        start_offset: int = 0, dpi: int | None = None, progress: Progress | None = None,
    ) -> bytes:
        """Many labels: a PDF of sheets or roll labels (from ``start_offset``), or ZPL."""
        if not cis:
            raise NotFoundError("no CI with an asset tag matches: there is nothing to print")
        self._check_size(len(cis))
        tpl = self.template(template, fmt)
        items = await self.label_data(cis)
        options = self.options()
        if fmt == "zpl":
            zpl_dpi = self._zpl_dpi(dpi)
            return await self._draw(
                lambda: drawing.render_zpl(items, options, zpl_dpi, tpl, progress))
        return await self._draw(
            lambda: drawing.render_pdf(items, options, tpl, start_offset, progress))

    @staticmethod
    def _zpl_dpi(dpi: int | None) -> int:
        if dpi is None:
            return ZPL_DPIS[0]
        if dpi not in ZPL_DPIS:
            raise LabelRenderError(f"ZPL is for 203 or 300 dpi printers, not {dpi}",
                                   "LABEL_OPTION_INVALID", field="dpi")
        return dpi

    @staticmethod
    async def _draw(work: Callable[[], bytes | str]) -> bytes:
        def run() -> bytes:
            with label_errors():
                out = work()
            return out.encode("utf-8") if isinstance(out, str) else out

        return await asyncio.to_thread(run)

    async def record_printed(self, actor: Actor, ci_ids: Sequence[str]) -> list[CI]:
        """Record that labels were printed for these CIs now, by ``actor`` (with history)."""
        self._check_size(len(ci_ids))
        if not ci_ids:
            return []
        return await self.cis.set_system_attributes(
            actor, ci_ids, {PRINTED_AT: now().isoformat(), PRINTED_BY: actor.name},
            reason="label printed",
        )
