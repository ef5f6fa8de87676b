"""Round trip with a real decoder (zxing-cpp): every QR we print reads back correctly."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from labels import (
    LabelData,
    LabelOptions,
    load_templates,
    qr_payload,
    render_pdf,
    render_png,
)
from labels.qr import qr_matrix

TEMPLATES = sorted(load_templates())
SHEETS = [n for n, t in load_templates().items() if t.kind == "sheet"]
DPI = 300
QR_ONLY = zxingcpp.barcode_formats_from_str("QRCode")  # standard QR only, no Micro QR


def decode(image: Image.Image) -> list[str]:
    """Texts of the QR codes zxing-cpp finds in ``image`` (standard QR only)."""
    found = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    return [r.text for r in found]


def rasterise(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    """Every page of ``pdf`` as a greyscale image at ``dpi``."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in doc]
    finally:
        doc.close()


def crop_mm(page: Image.Image, x: float, y: float, w: float, h: float) -> Image.Image:
    """Crop a box given in mm (from the top-left) out of a page rendered at DPI."""
    k = DPI / 25.4
    return page.crop((round(x * k), round(y * k), round((x + w) * k), round((y + h) * k)))


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("qr_content", ["url", "tag"])
def test_png_qr_decodes(
    template: str, qr_content: str, latin: LabelData, chinese: LabelData
) -> None:
    options = LabelOptions(public_base_url="https://cmdb.example.com", qr_content=qr_content)
    for data in (latin, chinese):
        png = render_png(data, options, template, dpi=DPI)
        with Image.open(io.BytesIO(png)) as image:
            assert round(image.info["dpi"][0]) == DPI
            assert decode(image.convert("L")) == [qr_payload(data, options)]


def test_url_payload_is_quoted_and_decodes() -> None:
    options = LabelOptions(public_base_url="https://cmdb.example.com/")
    data = LabelData(asset_tag="机房 A/07#1")
    expected = "https://cmdb.example.com/a/%E6%9C%BA%E6%88%BF%20A%2F07%231"
    assert qr_payload(data, options) == expected
    with Image.open(io.BytesIO(render_png(data, options, "avery-l7651", dpi=DPI))) as image:
        assert decode(image) == [expected]


@pytest.mark.parametrize("encoder", ["zxing", "qrcode"])
def test_both_encoders_produce_standard_qr(encoder: str) -> None:
    matrix = qr_matrix("https://cmdb.example.com/a/ZC-2024-0042", "H", encoder=encoder)  # type: ignore[arg-type]  # literal comes from parametrize
    assert matrix.size >= 21
    assert (matrix.size - 17) % 4 == 0
    scale, quiet = 8, 4
    side = (matrix.size + 2 * quiet) * scale
    image = Image.new("L", (side, side), 255)
    for y, x, n in matrix.runs():
        image.paste(
            0,
            (
                (x + quiet) * scale,
                (y + quiet) * scale,
                (x + quiet + n) * scale,
                (y + quiet + 1) * scale,
            ),
        )
    result = zxingcpp.read_barcodes(image)
    assert [r.text for r in result] == ["https://cmdb.example.com/a/ZC-2024-0042"]
    assert result[0].format == zxingcpp.BarcodeFormat.QRCode
    assert result[0].ec_level == "H"


@pytest.mark.parametrize("template", SHEETS)
def test_every_label_of_a_pdf_sheet_decodes(
    template: str, options: LabelOptions, latin: LabelData, chinese: LabelData
) -> None:
    tpl = load_templates()[template]
    offset = 2
    count = tpl.per_page + 3  # a full first page (after the offset) and a second page
    items = [
        (chinese if i % 2 else latin).model_copy(update={"asset_tag": f"ZC-{i:04d}"})
        for i in range(count)
    ]
    pages = rasterise(render_pdf(items, options, template, start_offset=offset))
    assert len(pages) == 2
    for i, item in enumerate(items):
        page_no, slot = divmod(offset + i, tpl.per_page)
        x, y = tpl.label_origin(slot)
        label = crop_mm(pages[page_no], x, y, tpl.label.width_mm, tpl.label.height_mm)
        assert decode(label) == [qr_payload(item, options)], f"label {i} (slot {slot})"
    # the skipped slots stay blank
    for slot in range(offset):
        x, y = tpl.label_origin(slot)
        blank = crop_mm(pages[0], x, y, tpl.label.width_mm, tpl.label.height_mm)
        assert blank.getextrema() == (255, 255)


@pytest.mark.parametrize("template", [n for n, t in load_templates().items() if t.kind == "roll"])
def test_roll_pdf_one_label_per_page(
    template: str, options: LabelOptions, latin: LabelData, chinese: LabelData
) -> None:
    tpl = load_templates()[template]
    pages = rasterise(render_pdf([latin, chinese], options, template))
    assert len(pages) == 2
    for page, data in zip(pages, (latin, chinese), strict=True):
        k = DPI / 25.4
        assert abs(page.width - tpl.label.width_mm * k) <= 1
        assert abs(page.height - tpl.label.height_mm * k) <= 1
        assert decode(page) == [qr_payload(data, options)]
