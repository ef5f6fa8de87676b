"""Draw a label layout as a self-contained SVG document (text as glyph outlines).

Glyphs are emitted as paths taken from the font file, so the SVG looks the same in
every viewer whether or not it has a CJK font; each text line carries an
``aria-label`` with its text for accessibility and search.
"""

from __future__ import annotations

import base64
import io
from xml.sax.saxutils import quoteattr

from labels.images import load_logo
from labels.layout import LabelLayout
from labels.qr import QUIET_ZONE


def _num(value: float) -> str:
    """Compact decimal for SVG attributes."""
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def draw_svg(layout: LabelLayout, border: bool = False, corner_radius_mm: float = 0.0) -> str:
    """Return an SVG document of the label, sized in millimetres."""
    w, h = layout.width_mm, layout.height_mm
    parts: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{_num(w)}mm" height="{_num(h)}mm" viewBox="0 0 {_num(w)} {_num(h)}">',
        f"<title>{_escape(layout.lines[0].text if layout.lines else layout.payload)}</title>",
        f'<rect width="{_num(w)}" height="{_num(h)}" fill="#fff"/>',
    ]
    module = layout.module_mm
    qx = layout.qr_box.x_mm + QUIET_ZONE * module
    qy = layout.qr_box.y_mm + QUIET_ZONE * module
    path = "".join(f"M{x} {y}h{n}v1h-{n}z" for y, x, n in layout.qr.runs())
    parts.append(
        f'<path aria-label={quoteattr(layout.payload)} fill="#000" shape-rendering="crispEdges" '
        f'transform="translate({_num(qx)} {_num(qy)}) scale({_num(module)})" d="{path}"/>'
    )
    font = layout.font
    used: dict[str, str] = {}
    body: list[str] = []
    for line in layout.lines:
        scale = line.size_pt * 25.4 / 72 / font.units_per_em
        uses: list[str] = []
        advance = 0
        for ch in line.text:
            d, adv = font.glyph_path(ch)
            if d:
                gid = used.setdefault(ch, f"g{len(used)}")
                uses.append(f'<use xlink:href="#{gid}" x="{advance}"/>')
            advance += adv
        body.append(
            f'<g aria-label={quoteattr(line.text)} transform="translate({_num(line.x_mm)} '
            f'{_num(line.baseline_mm)}) scale({scale:.6g} {-scale:.6g})">{"".join(uses)}</g>'
        )
    defs = [f'<path id="{gid}" d="{font.glyph_path(ch)[0]}"/>' for ch, gid in used.items()]
    if defs:
        parts.append("<defs>" + "".join(defs) + "</defs>")
    parts.append('<g fill="#000">' + "".join(body) + "</g>")
    if layout.logo is not None and layout.logo_path is not None:
        box = layout.logo
        buf = io.BytesIO()
        load_logo(layout.logo_path).save(buf, format="PNG")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        parts.append(
            f'<image x="{_num(box.x_mm)}" y="{_num(box.y_mm)}" width="{_num(box.w_mm)}" '
            f'height="{_num(box.h_mm)}" preserveAspectRatio="xMinYMid meet" '
            f'xlink:href="data:image/png;base64,{data}"/>'
        )
    if border:
        r = _num(corner_radius_mm)
        parts.append(
            f'<rect x="0.05" y="0.05" width="{_num(w - 0.1)}" height="{_num(h - 0.1)}" rx="{r}" '
            'fill="none" stroke="#888" stroke-width="0.1"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _escape(text: str) -> str:
    """Escape text content for XML."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
