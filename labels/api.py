"""Public entry points of the label layer: one label as PNG/SVG, batches as PDF/ZPL."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from labels.errors import LabelOptionError
from labels.fonts import LoadedFont, font_for_text
from labels.layout import LabelLayout, all_text, compute_layout
from labels.models import LabelData, LabelOptions
from labels.pdf import ProgressCallback, build_pdf
from labels.raster import draw_label, image_to_png
from labels.svg import draw_svg
from labels.templates import LabelTemplate, get_template
from labels.zpl import label_zpl

DEFAULT_TEMPLATE = "avery-l7160"
DEFAULT_ZPL_TEMPLATE = "zebra-2x1in"

TemplateRef = LabelTemplate | str | None


def _template(ref: TemplateRef, default: str) -> LabelTemplate:
    """Resolve a template given by object, by name, or ``None`` for ``default``."""
    if isinstance(ref, LabelTemplate):
        return ref
    return get_template(ref or default)


def layout_label(
    data: LabelData, options: LabelOptions, template: TemplateRef = None
) -> LabelLayout:
    """Compute where everything goes on one label (exposed for previews and tests)."""
    return compute_layout(data, options, _template(template, DEFAULT_TEMPLATE))


def render_png(
    data: LabelData, options: LabelOptions, template: TemplateRef = None, dpi: int = 300
) -> bytes:
    """One label as a PNG image at ``dpi`` (72..1200), the label's exact size."""
    tpl = _template(template, DEFAULT_TEMPLATE)
    layout = compute_layout(data, options, tpl)
    image = draw_label(layout, dpi, options.border, tpl.corner_radius_mm)
    return image_to_png(image, dpi)


def render_svg(data: LabelData, options: LabelOptions, template: TemplateRef = None) -> str:
    """One label as a standalone SVG document (sized in mm, text as outlines)."""
    tpl = _template(template, DEFAULT_TEMPLATE)
    layout = compute_layout(data, options, tpl)
    return draw_svg(layout, options.border, tpl.corner_radius_mm)


def _batch_layouts(
    items: Iterable[LabelData], options: LabelOptions, tpl: LabelTemplate
) -> tuple[list[LabelLayout], LoadedFont, str]:
    """Lay out a batch with one font that covers every character of every label."""
    data = list(items)
    chars = "".join(sorted({c for d in data for c in all_text(d, options, tpl)}))
    font = font_for_text(chars, options.font_path)
    return [compute_layout(d, options, tpl, font) for d in data], font, chars


def render_pdf(
    items: Iterable[LabelData],
    options: LabelOptions,
    template_name: TemplateRef = DEFAULT_TEMPLATE,
    start_offset: int = 0,
    progress: ProgressCallback | None = None,
) -> bytes:
    """A batch of labels as PDF: sheets (skipping ``start_offset`` used labels) or roll pages.

    ``progress(done, total)`` is called after each label is placed.
    """
    tpl = _template(template_name, DEFAULT_TEMPLATE)
    if start_offset < 0:
        raise LabelOptionError("start_offset must not be negative")
    layouts, font, chars = _batch_layouts(items, options, tpl)
    return build_pdf(layouts, tpl, font, chars, start_offset, options.border, progress)


def render_zpl(
    items: LabelData | Iterable[LabelData],
    options: LabelOptions,
    dpi: int = 203,
    template_name: TemplateRef = DEFAULT_ZPL_TEMPLATE,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """One label or a batch as ZPL II for a Zebra printer at 203 or 300 dpi."""
    tpl = _template(template_name, DEFAULT_ZPL_TEMPLATE)
    batch = [items] if isinstance(items, LabelData) else list(items)
    layouts, _font, _chars = _batch_layouts(batch, options, tpl)
    out: list[str] = []
    for i, layout in enumerate(layouts):
        out.append(label_zpl(layout, dpi, options.zpl_text))
        if progress is not None:
            progress(i + 1, len(layouts))
    return "".join(out)
