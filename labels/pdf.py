"""Draw batches of labels into a PDF (fpdf2): sheets of labels or one page per roll label.

QR codes are inline image masks with one sample per module (crisp at any zoom
and print resolution; written straight into the page content stream for speed);
text uses a subset of the chosen font, embedded in the PDF so that CJK prints
without the reader having the font.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fpdf import FPDF

from labels.errors import LabelOptionError
from labels.fonts import LoadedFont, subset_font_file
from labels.images import load_logo
from labels.layout import LabelLayout
from labels.qr import QUIET_ZONE
from labels.templates import LabelTemplate

ProgressCallback = Callable[[int, int], None]
_FAMILY = "cmdblabel"


def _qr_ops(layout: LabelLayout, ox: float, oy: float, k: float, page_h: float) -> str:
    """PDF operators painting the QR of a label whose top-left is (ox, oy) mm.

    The symbol is an inline 1-bit image mask, one sample per module, scaled to the
    module size: exact module edges (masks are never smoothed), ~330 bytes a label.
    """
    module = layout.module_mm
    n = layout.qr.size
    qx = ox + layout.qr_box.x_mm + QUIET_ZONE * module
    qy = oy + layout.qr_box.y_mm + QUIET_ZONE * module
    side = n * module * k
    return (
        f"q 0 g {side:.4f} 0 0 {side:.4f} {qx * k:.4f} {(page_h - qy) * k - side:.4f} cm "
        f"BI /W {n} /H {n} /IM true /BPC 1 /F /AHx ID {layout.qr.mask_bits().hex()}> EI Q"
    )


def build_pdf(
    layouts: Sequence[LabelLayout],
    template: LabelTemplate,
    font: LoadedFont,
    chars: str,
    start_offset: int = 0,
    border: bool = False,
    progress: ProgressCallback | None = None,
) -> bytes:
    """Place ``layouts`` on the pages of ``template``, skipping ``start_offset`` slots."""
    per_page = template.per_page
    if template.kind == "roll" and start_offset:
        raise LabelOptionError("start_offset applies to sheet templates only")
    if not 0 <= start_offset < per_page and template.kind == "sheet":
        raise LabelOptionError(f"start_offset must be between 0 and {per_page - 1}")
    page = template.page_size
    pdf = FPDF(unit="mm", format=(page.width_mm, page.height_mm))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_creator("cmdb.labels")
    pdf.set_title(f"Asset labels ({template.name})")
    pdf.add_font(_FAMILY, fname=str(subset_font_file(font, chars)))
    # fpdf2 has no public call for inline images; _out() appends to the page content.
    raw_out: Callable[[str], None] | None = getattr(pdf, "_out", None)
    k = 72 / 25.4
    total = len(layouts)
    current_page = -1
    if total == 0:
        pdf.add_page()
    for i, layout in enumerate(layouts):
        slot_index = start_offset + i
        page_no, slot = divmod(slot_index, per_page)
        if page_no != current_page:
            pdf.add_page()
            current_page = page_no
        ox, oy = template.label_origin(slot)
        if raw_out is not None:
            raw_out(_qr_ops(layout, ox, oy, k, page.height_mm))
        else:  # pragma: no cover - fpdf2 without the private _out()
            _qr_rects(pdf, layout, ox, oy)
        for line in layout.lines:
            pdf.set_font(_FAMILY, size=line.size_pt)
            pdf.text(ox + line.x_mm, oy + line.baseline_mm, line.text)
        if layout.logo is not None and layout.logo_path is not None:
            box = layout.logo
            pdf.image(
                load_logo(layout.logo_path),
                x=ox + box.x_mm,
                y=oy + box.y_mm,
                w=box.w_mm,
                h=box.h_mm,
                keep_aspect_ratio=True,
            )
        if border:
            pdf.set_draw_color(140, 140, 140)
            pdf.set_line_width(0.1)
            radius = template.corner_radius_mm
            pdf.rect(
                ox,
                oy,
                template.label.width_mm,
                template.label.height_mm,
                round_corners=radius > 0,
                corner_radius=radius,
            )
        if progress is not None:
            progress(i + 1, total)
    return bytes(pdf.output())


def _qr_rects(pdf: FPDF, layout: LabelLayout, ox: float, oy: float) -> None:
    """Slow but public-API fallback: one filled rectangle per run of dark modules."""
    module = layout.module_mm
    qx = ox + layout.qr_box.x_mm + QUIET_ZONE * module
    qy = oy + layout.qr_box.y_mm + QUIET_ZONE * module
    pdf.set_fill_color(0, 0, 0)
    for y, x, n in layout.qr.runs():
        pdf.rect(qx + x * module, qy + y * module, n * module, module, style="F")
