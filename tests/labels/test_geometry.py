"""PDF geometry: labels land where the stock's data sheet puts them (within 0.5 mm).

The expected positions below are typed in from the data sheets, independently of
the YAML templates; positions are measured on the rasterised PDF (QR symbols found
by zxing-cpp and the hairline label boxes drawn with ``border=True``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from labels import LabelData, LabelOptions, get_template, layout_label, render_pdf
from labels.qr import QUIET_ZONE

DPI = 300
PX = DPI / 25.4  # pixels per mm
TOLERANCE_MM = 0.5
QR_ONLY = zxingcpp.barcode_formats_from_str("QRCode")


@dataclass(frozen=True)
class Sheet:
    """Data-sheet geometry of a label sheet, in mm."""

    page: tuple[float, float]
    label: tuple[float, float]
    left: float
    top: float
    pitch_x: float
    pitch_y: float
    columns: int
    rows: int


DATA_SHEETS = {
    "avery-l7160": Sheet((210, 297), (63.5, 38.1), 7.21, 15.15, 66.04, 38.1, 3, 7),
    "avery-l7651": Sheet((210, 297), (38.1, 21.2), 4.67, 10.7, 40.64, 21.2, 5, 13),
    # Avery 5160: 8.5 x 11 in, 2.625 x 1 in, side 3/16 in, top 1/2 in, pitch 2.75 x 1 in
    "avery-5160": Sheet((215.9, 279.4), (66.675, 25.4), 4.7625, 12.7, 69.85, 25.4, 3, 10),
}


def _grey(image: Image.Image, x: int, y: int) -> int:
    """Grey value of one pixel of an "L" image."""
    value = image.getpixel((x, y))
    assert isinstance(value, float | int)
    return int(value)


def _page(pdf: bytes) -> tuple[Image.Image, tuple[float, float]]:
    """First page rasterised at DPI, and its size in mm."""
    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        w_pt, h_pt = page.get_size()
        image = page.render(scale=DPI / 72).to_pil().convert("L")
    finally:
        doc.close()
    return image, (w_pt * 25.4 / 72, h_pt * 25.4 / 72)


@pytest.mark.parametrize("name", sorted(DATA_SHEETS))
def test_labels_land_on_data_sheet_positions(name: str, options: LabelOptions) -> None:
    sheet = DATA_SHEETS[name]
    template = get_template(name)
    assert (template.columns, template.rows) == (sheet.columns, sheet.rows)
    boxed = options.model_copy(update={"border": True})
    items = [LabelData(asset_tag=f"G-{i:03d}", name="Geometry") for i in range(template.per_page)]
    image, size_mm = _page(render_pdf(items, boxed, name))
    assert size_mm == pytest.approx(sheet.page, abs=0.1)

    layout = layout_label(items[0], boxed, name)
    inner = QUIET_ZONE * layout.module_mm
    found = {r.text: r.position.top_left for r in zxingcpp.read_barcodes(image, formats=QR_ONLY)}
    assert len(found) == template.per_page
    for i, item in enumerate(items):
        row, col = divmod(i, sheet.columns)
        x = sheet.left + col * sheet.pitch_x
        y = sheet.top + row * sheet.pitch_y
        # the QR symbol's corner: label corner + the label's own QR offset
        corner = found[f"https://cmdb.example.com/a/{item.asset_tag}"]
        assert corner.x / PX == pytest.approx(x + layout.qr_box.x_mm + inner, abs=TOLERANCE_MM)
        assert corner.y / PX == pytest.approx(y + layout.qr_box.y_mm + inner, abs=TOLERANCE_MM)
        # the hairline box: dark pixels on the label's left and top edges
        mid_y = round((y + sheet.label[1] / 2) * PX)
        mid_x = round((x + sheet.label[0] / 2) * PX)
        band = round(TOLERANCE_MM * PX)
        left_edge = [_grey(image, round(x * PX) + d, mid_y) for d in range(-band, band + 1)]
        top_edge = [_grey(image, mid_x, round(y * PX) + d) for d in range(-band, band + 1)]
        assert min(left_edge) < 200, f"no box edge near x={x} mm for label {i}"
        assert min(top_edge) < 200, f"no box edge near y={y} mm for label {i}"
