"""Asset labels in GraphQL: the label templates, and recording that labels were printed.

The labels themselves are files, served over plain HTTP (``/labels/...``, see
``labels_http``); a CI's ``labelUrl`` and ``assetPageUrl`` point there.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from cmdb.api.graphql.cis_types import CIType
from cmdb.api.graphql.context import Context
from cmdb.errors import LimitExceededError
from labels import LabelTemplate


@strawberry.type(name="LabelTemplate", description="A label stock that labels print on.")
class LabelTemplateType:
    template: strawberry.Private[LabelTemplate]

    @strawberry.field(description="Pass this as `template` when printing, e.g. avery-l7160.")
    def name(self) -> str:
        return self.template.name

    @strawberry.field
    def description(self) -> str:
        return self.template.description

    @strawberry.field(description="sheet (many labels a page) or roll (one label a page).")
    def kind(self) -> str:
        return self.template.kind

    @strawberry.field(description="Width of a PDF page: the sheet, or the label on a roll.")
    def page_width_mm(self) -> float:
        return self.template.page_size.width_mm

    @strawberry.field
    def page_height_mm(self) -> float:
        return self.template.page_size.height_mm

    @strawberry.field
    def label_width_mm(self) -> float:
        return self.template.label.width_mm

    @strawberry.field
    def label_height_mm(self) -> float:
        return self.template.label.height_mm

    @strawberry.field
    def columns(self) -> int:
        return self.template.columns

    @strawberry.field
    def rows(self) -> int:
        return self.template.rows

    @strawberry.field(description="Labels on one page; a start offset is below this.")
    def labels_per_page(self) -> int:
        return self.template.per_page


@strawberry.type
class LabelQuery:
    """Asset labels: what they can be printed on."""

    @strawberry.field(description="Every label template, built-in and configured.")
    def label_templates(self, info: Info[Context, None]) -> list[LabelTemplateType]:
        return [LabelTemplateType(template=t) for t in info.context.cmdb.labels.templates()]


@strawberry.type
class LabelMutation:
    """Asset labels: recording printing done elsewhere (e.g. from a downloaded PDF)."""

    @strawberry.mutation(
        name="recordLabelsPrinted",
        description="Record that labels were printed now for these CIs (sets "
        "label_printed_at and label_printed_by, with history); returns the CIs.",
    )
    async def record_labels_printed(
        self, info: Info[Context, None], ids: list[strawberry.ID]
    ) -> list[CIType]:
        ctx = info.context
        limit = ctx.cmdb.settings.max_page_size
        if len(ids) > limit:
            raise LimitExceededError(f"record at most {limit} CIs at a time", field="ids",
                                     limit=limit)
        cis = await ctx.cmdb.labels.record_printed(ctx.actor, [str(i) for i in ids])
        ctx.prime(cis)
        return [CIType(ci=ci) for ci in cis]
