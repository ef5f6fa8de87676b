"""ZPL II output for Zebra label printers (203 or 300 dpi).

Each label is one ``^XA ... ^XZ`` format:

* ``^CI28`` selects UTF-8 for field data; ``^PW``/``^LL`` set the label size in dots.
* The QR is ``^BQN,2,m`` (model 2, i.e. standard QR, never Micro QR) with the
  magnification ``m`` = dots per module, the largest that keeps the symbol plus its
  4-module quiet zone inside the template's QR box; the field data starts with the
  error-correction level and ``A`` (automatic mode), e.g. ``^FDQA,https://...``.
* Text: with ``zpl_text="auto"`` a line of plain ASCII uses the printer's resident
  scalable font 0 (``^A0``, positioned on its baseline with ``^FT``); any other line
  (Chinese, accents, ...) is rendered here with the label font and sent as a ``^GF``
  bitmap. ``^A@`` with a CJK font was not chosen because Zebra printers do not ship
  one by default (it must be bought and downloaded to the printer first), and a
  missing font prints nothing or tofu; the bitmap prints the same on every printer.
  ``zpl_text="graphic"`` sends every line as a bitmap (identical look to the PDF).
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from labels.errors import LabelOptionError
from labels.images import load_logo
from labels.layout import LabelLayout, TextLine
from labels.raster import fitted_pil_font

SUPPORTED_DPI = (203, 300)
_DOTS_PER_MM = {203: 8.0, 300: 12.0}  # Zebra's nominal 8 and 12 dots/mm


def _dots(mm: float, dpi: int) -> int:
    """Millimetres to printer dots."""
    return round(mm * _DOTS_PER_MM[dpi])


def _field_data(text: str) -> str:
    """``^FD`` content, hex-escaping ZPL control characters with ``^FH``."""
    if not any(c in text for c in "^~_"):
        return f"^FD{text}"
    escaped = text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")
    return f"^FH_^FD{escaped}"


def _graphic_field(image: Image.Image) -> str:
    """A ``^GFA`` command (uncompressed ASCII hex) for a 1-bit image; black prints."""
    mono = image.point(lambda v: 255 if v < 128 else 0, mode="1")
    width, height = mono.size
    row_bytes = (width + 7) // 8
    data = mono.tobytes()  # mode "1": rows padded to whole bytes, 1 = set pixel
    total = row_bytes * height
    return f"^GFA,{total},{total},{row_bytes},{data.hex().upper()}"


def _text_bitmap(layout: LabelLayout, line: TextLine, dpi: int) -> tuple[int, int, str]:
    """Render one text line at printer resolution: (x dots, y dots, ^GF command)."""
    font = fitted_pil_font(layout, line, dpi)
    ascent, descent = font.getmetrics()
    width = max(int(font.getlength(line.text)) + 2, 8)
    image = Image.new("L", (width, ascent + descent), 255)
    ImageDraw.Draw(image).text((0, ascent), line.text, font=font, fill=0, anchor="ls")
    x = _dots(line.x_mm, dpi)
    y = _dots(line.baseline_mm, dpi) - ascent
    return x, max(y, 0), _graphic_field(image)


def _is_printer_text(text: str) -> bool:
    """True when resident font 0 can print ``text`` (plain printable ASCII)."""
    return all(" " <= c <= "~" for c in text)


def label_zpl(layout: LabelLayout, dpi: int, text_mode: str = "auto") -> str:
    """ZPL II for one label."""
    if dpi not in SUPPORTED_DPI:
        raise LabelOptionError(f"ZPL dpi must be one of {SUPPORTED_DPI}, not {dpi}")
    out = [
        "^XA",
        "^CI28",
        f"^PW{_dots(layout.width_mm, dpi)}",
        f"^LL{_dots(layout.height_mm, dpi)}",
        "^LH0,0",
    ]
    box = layout.qr_box
    box_dots = _dots(box.w_mm, dpi)
    modules = layout.qr.size_with_quiet_zone
    magnification = box_dots // modules
    if magnification < 1:
        raise LabelOptionError(f"QR box of {box.w_mm:.1f} mm is too small at {dpi} dpi")
    magnification = min(magnification, 10)  # ^BQ accepts 1..10
    offset = (box_dots - layout.qr.size * magnification) // 2
    qx = _dots(box.x_mm, dpi) + offset
    qy = _dots(box.y_mm, dpi) + offset
    ec = "H" if layout.qr_ec == "H" else "Q"
    out.append(
        f"^FO{qx},{qy}^BQN,2,{magnification},{ec}{_field_data(f'{ec}A,{layout.payload}')}^FS"
    )
    for line in layout.lines:
        if text_mode == "auto" and _is_printer_text(line.text):
            height = _dots(line.size_pt * 25.4 / 72, dpi)
            x, y = _dots(line.x_mm, dpi), _dots(line.baseline_mm, dpi)
            out.append(f"^FT{x},{y}^A0N,{height},{height}{_field_data(line.text)}^FS")
        else:
            x, y, graphic = _text_bitmap(layout, line, dpi)
            out.append(f"^FO{x},{y}{graphic}^FS")
    if layout.logo is not None and layout.logo_path is not None:
        logo = load_logo(layout.logo_path).convert("L")
        logo.thumbnail((_dots(layout.logo.w_mm, dpi), _dots(layout.logo.h_mm, dpi)))
        out.append(
            f"^FO{_dots(layout.logo.x_mm, dpi)},{_dots(layout.logo.y_mm, dpi)}"
            f"{_graphic_field(logo)}^FS"
        )
    out.append("^PQ1")
    out.append("^XZ")
    return "\n".join(out) + "\n"
