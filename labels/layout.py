"""Where things go on one label: QR box and fitted text lines, in millimetres.

The layout is computed once from the data, the options and the template, and every
output (PNG, SVG, PDF, ZPL) draws the same layout, so they all look alike. Text is
shrunk down to the field's minimum size to fit, wrapped if the field allows more
than one line, and otherwise cut with an ellipsis; blocks that do not fit
vertically are dropped (in template order, so put the least important last).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labels.fonts import PT_TO_MM, LoadedFont, font_for_text
from labels.models import LabelData, LabelOptions, qr_payload
from labels.qr import QrMatrix, qr_matrix
from labels.templates import FieldSpec, LabelTemplate

LINE_HEIGHT = 1.18  # line box height as a multiple of the font size
TEXT_GAP_MM = 0.4  # between the QR box (its white quiet zone) and the text
_STEP_PT = 0.25


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text: left x, baseline y (mm from the label's top-left), size."""

    field: str
    text: str
    x_mm: float
    baseline_mm: float
    size_pt: float
    width_mm: float


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in mm from the label's top-left corner."""

    x_mm: float
    y_mm: float
    w_mm: float
    h_mm: float


@dataclass(frozen=True, slots=True)
class LabelLayout:
    """Everything a renderer needs to draw one label."""

    width_mm: float
    height_mm: float
    payload: str
    qr: QrMatrix
    qr_ec: str
    qr_box: Box  # square, quiet zone included
    lines: tuple[TextLine, ...]
    logo: Box | None
    logo_path: Path | None
    font: LoadedFont

    @property
    def module_mm(self) -> float:
        """Side of one QR module in mm."""
        return self.qr_box.w_mm / self.qr.size_with_quiet_zone


def field_text(field: str, data: LabelData, options: LabelOptions) -> str:
    """The text a template field prints for ``data`` (empty when there is nothing)."""
    if field == "asset_tag":
        return data.asset_tag
    if field == "name":
        return data.name
    if field == "model_serial":
        return " / ".join(p for p in (data.model, data.serial_number) if p)
    if field == "owner":
        return data.owner
    if field == "organisation":
        return data.organisation or options.organisation or ""
    if field == "extra":
        return data.extra or ""
    raise ValueError(f"unknown field {field}")


def all_text(data: LabelData, options: LabelOptions, template: LabelTemplate) -> str:
    """All characters a label may print (for font selection and subsetting)."""
    return "".join(field_text(f.field, data, options) for f in template.fields) + "…"


def _sizes(spec: FieldSpec) -> list[float]:
    """Candidate font sizes from nominal down to minimum."""
    out = []
    size = spec.font_size_pt
    while size >= spec.min_size - 1e-9:
        out.append(round(size, 2))
        size -= _STEP_PT
    return out


def _wrap(text: str, font: LoadedFont, size: float, avail: float, max_lines: int) -> list[str]:
    """Greedy wrap preferring spaces, breaking anywhere for CJK; [] if it needs more lines."""
    lines: list[str] = []
    rest = text
    while rest:
        if len(lines) == max_lines:
            return []
        if font.width_mm(rest, size) <= avail:
            lines.append(rest)
            break
        cut = 1
        while cut < len(rest) and font.width_mm(rest[: cut + 1], size) <= avail:
            cut += 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0 and cut < len(rest):
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines


def _ellipsize(text: str, font: LoadedFont, size: float, avail: float) -> str:
    """Cut ``text`` and append an ellipsis so that it fits ``avail`` mm."""
    mark = "…" if not font.missing("…") else "..."
    for end in range(len(text) - 1, 0, -1):
        candidate = text[:end].rstrip() + mark
        if font.width_mm(candidate, size) <= avail:
            return candidate
    return mark


def fit_text(
    text: str, spec: FieldSpec, font: LoadedFont, avail_mm: float
) -> tuple[float, list[str]]:
    """Font size and lines for one field within ``avail_mm`` of width."""
    sizes = _sizes(spec)
    for size in sizes:
        if font.width_mm(text, size) <= avail_mm:
            return size, [text]
    if spec.max_lines > 1:
        for size in sizes:
            wrapped = _wrap(text, font, size, avail_mm, spec.max_lines)
            if wrapped:
                return size, wrapped
        size = sizes[-1]
        wrapped = _wrap(text, font, size, avail_mm, 99)
        head = wrapped[: spec.max_lines]
        tail = " ".join(wrapped[spec.max_lines - 1 :])
        head[-1] = _ellipsize(tail, font, size, avail_mm)
        return size, head
    size = sizes[-1]
    return size, [_ellipsize(text, font, size, avail_mm)]


def compute_layout(
    data: LabelData,
    options: LabelOptions,
    template: LabelTemplate,
    font: LoadedFont | None = None,
) -> LabelLayout:
    """Lay out one label of ``template`` for ``data``; picks a covering font if not given."""
    if font is None:
        font = font_for_text(all_text(data, options, template), options.font_path)
    payload = qr_payload(data, options)
    matrix = qr_matrix(payload, options.ec_level)
    pad = template.padding_mm
    w, h = template.label.width_mm, template.label.height_mm
    box = template.qr_box_mm
    qr_box = Box(pad, (h - box) / 2, box, box)
    x0 = pad + box + TEXT_GAP_MM
    avail = w - pad - x0
    top, bottom = pad, h - pad

    blocks: list[tuple[str, float, list[str], float]] = []  # field, size, lines, height
    used = 0.0
    logo_w = logo_h = 0.0
    for spec in template.fields:
        text = field_text(spec.field, data, options)
        want_logo = spec.field == "organisation" and options.logo_path is not None
        if not text and not want_logo:
            continue
        line_h = spec.font_size_pt * PT_TO_MM * LINE_HEIGHT
        field_avail = avail
        if want_logo:
            logo_h = min(2.0 * line_h, 0.3 * (bottom - top))
            logo_w = min(logo_h * _logo_aspect(options.logo_path), 0.4 * avail)
            field_avail = avail - logo_w - (TEXT_GAP_MM if text else 0.0)
        size, lines = fit_text(text, spec, font, field_avail) if text else (spec.min_size, [])
        height = len(lines) * size * PT_TO_MM * LINE_HEIGHT
        if want_logo:
            height = max(height, logo_h)
        if used + height > bottom - top + 1e-6:
            if want_logo:
                logo_w = logo_h = 0.0
            continue
        blocks.append((spec.field, size, lines, height))
        used += height

    y = top + (bottom - top - used) / 2
    out: list[TextLine] = []
    logo: Box | None = None
    for field, size, lines, height in blocks:
        x = x0
        text_h = len(lines) * size * PT_TO_MM * LINE_HEIGHT
        ty = y + (height - text_h) / 2
        if field == "organisation" and logo_h > 0:
            logo = Box(x0, y + (height - logo_h) / 2, logo_w, logo_h)
            x = x0 + logo_w + TEXT_GAP_MM
        for line in lines:
            line_h = size * PT_TO_MM * LINE_HEIGHT
            leading = (line_h - size * PT_TO_MM * (font.ascent + font.descent)) / 2
            baseline = ty + leading + size * PT_TO_MM * font.ascent
            out.append(TextLine(field, line, x, baseline, size, font.width_mm(line, size)))
            ty += line_h
        y += height
    return LabelLayout(
        w, h, payload, matrix, options.ec_level, qr_box, tuple(out), logo, options.logo_path, font
    )


def _logo_aspect(path: Path | None) -> float:
    """Width / height of the logo image (1.0 if it cannot be read yet)."""
    if path is None:
        return 1.0
    from labels.images import logo_size

    width, height = logo_size(path)
    return width / height
