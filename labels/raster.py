"""Draw a label layout as a Pillow image (PNG output, ZPL text bitmaps)."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from labels.errors import LabelOptionError
from labels.fonts import FontFace
from labels.images import load_logo
from labels.layout import LabelLayout, TextLine
from labels.qr import QUIET_ZONE

MIN_DPI = 72
MAX_DPI = 1200


@lru_cache(maxsize=64)
def pil_font(face: FontFace, size_px: int) -> ImageFont.FreeTypeFont:
    """A Pillow font for ``face`` at ``size_px`` pixels (cached)."""
    return ImageFont.truetype(str(face.path), size=max(size_px, 1), index=face.index)


def fitted_pil_font(layout: LabelLayout, line: TextLine, dpi: float) -> ImageFont.FreeTypeFont:
    """Pillow font for ``line``, one pixel size smaller while hinting makes it too wide."""
    px_per_mm = dpi / 25.4
    size_px = round(line.size_pt / 72 * dpi)
    limit = (line.width_mm + 0.02) * px_per_mm + 1
    font = pil_font(layout.font.face, size_px)
    while size_px > 1 and font.getlength(line.text) > limit:
        size_px -= 1
        font = pil_font(layout.font.face, size_px)
    return font


def draw_label(
    layout: LabelLayout,
    dpi: float,
    border: bool = False,
    corner_radius_mm: float = 0.0,
    include_qr: bool = True,
) -> Image.Image:
    """Render ``layout`` as an 8-bit greyscale image at ``dpi`` (white background)."""
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise LabelOptionError(f"dpi must be between {MIN_DPI} and {MAX_DPI}, not {dpi}")
    px_per_mm = dpi / 25.4
    width = round(layout.width_mm * px_per_mm)
    height = round(layout.height_mm * px_per_mm)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    if include_qr:
        _draw_qr(draw, layout, px_per_mm)
    for line in layout.lines:
        font = fitted_pil_font(layout, line, dpi)
        draw.text(
            (line.x_mm * px_per_mm, line.baseline_mm * px_per_mm),
            line.text,
            font=font,
            fill=0,
            anchor="ls",
        )
    if layout.logo is not None and layout.logo_path is not None:
        box = layout.logo
        logo = load_logo(layout.logo_path).convert("L")
        size = (max(round(box.w_mm * px_per_mm), 1), max(round(box.h_mm * px_per_mm), 1))
        logo.thumbnail(size, Image.Resampling.LANCZOS)
        image.paste(logo, (round(box.x_mm * px_per_mm), round(box.y_mm * px_per_mm)))
    if border:
        radius = round(corner_radius_mm * px_per_mm)
        draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=radius, outline=128, width=1)
    return image


def _draw_qr(draw: ImageDraw.ImageDraw, layout: LabelLayout, px_per_mm: float) -> None:
    """Draw the QR modules, snapping module edges to whole pixels."""
    box = layout.qr_box
    module = layout.module_mm * px_per_mm
    x0 = box.x_mm * px_per_mm + QUIET_ZONE * module
    y0 = box.y_mm * px_per_mm + QUIET_ZONE * module
    for y, x, length in layout.qr.runs():
        left = round(x0 + x * module)
        right = round(x0 + (x + length) * module) - 1
        top = round(y0 + y * module)
        bottom = round(y0 + (y + 1) * module) - 1
        draw.rectangle((left, top, right, bottom), fill=0)


def image_to_png(image: Image.Image, dpi: float) -> bytes:
    """Encode ``image`` as PNG bytes that record their resolution."""
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=False)
    return out.getvalue()
