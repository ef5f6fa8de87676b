"""ZPL output: rendered offline by a third-party renderer (zebrash), QR decodes."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import zxingcpp
from PIL import Image

from labels import LabelData, LabelOptions, get_template, qr_payload, render_zpl
from labels.errors import LabelOptionError

Renderer = Callable[[str, float, float, int], list[Image.Image]]
QR_ONLY = zxingcpp.barcode_formats_from_str("QRCode")  # standard QR only, no Micro QR


def _decode(image: Image.Image) -> list[str]:
    """QR texts zxing-cpp finds in a rendered label."""
    return [r.text for r in zxingcpp.read_barcodes(image, formats=QR_ONLY)]


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("template", ["zebra-2x1in", "dymo-89x36", "avery-l7651"])
def test_zpl_batch_renders_and_decodes(
    dpi: int,
    template: str,
    zpl_renderer: Renderer,
    options: LabelOptions,
    latin: LabelData,
    chinese: LabelData,
) -> None:
    items = [latin, chinese]
    zpl = render_zpl(items, options, dpi=dpi, template_name=template)
    assert zpl.count("^XA") == zpl.count("^XZ") == 2
    assert zpl.count("^CI28") == 2
    tpl = get_template(template)
    images = zpl_renderer(zpl, tpl.label.width_mm, tpl.label.height_mm, dpi)
    assert len(images) == 2
    for image, data in zip(images, items, strict=True):
        dots = {203: 8, 300: 12}[dpi]
        assert abs(image.width - tpl.label.width_mm * dots) <= 2
        assert _decode(image) == [qr_payload(data, options)]
        assert image.getextrema()[0] == 0  # something printed


def test_zpl_qr_command(options: LabelOptions, latin: LabelData) -> None:
    zpl = render_zpl(latin, options, dpi=300, template_name="zebra-2x1in")
    match = re.search(r"\^FO(\d+),(\d+)\^BQN,2,(\d+),Q\^FDQA,(\S+?)\^FS", zpl)
    assert match is not None
    x, y, magnification = (int(match.group(i)) for i in (1, 2, 3))
    assert match.group(4) == "https://cmdb.example.com/a/ZC-2024-0042"
    # the 4-module quiet zone lies inside the label's padding box
    assert x >= 4 * magnification
    assert y >= 4 * magnification
    assert 1 <= magnification <= 10


def test_zpl_text_modes(
    zpl_renderer: Renderer, options: LabelOptions, latin: LabelData, chinese: LabelData
) -> None:
    auto = render_zpl(chinese, options, template_name="zebra-2x1in")
    assert "^A0N" in auto  # the ASCII asset tag uses the printer font
    assert "^GFA," in auto  # Chinese lines are bitmaps
    assert "核心" not in auto  # ... so no CJK text is sent to a printer without the font
    graphic = render_zpl(
        latin, options.model_copy(update={"zpl_text": "graphic"}), template_name="zebra-2x1in"
    )
    assert "^A0N" not in graphic
    assert graphic.count("^GFA,") == 5
    images = zpl_renderer(graphic, 50.8, 25.4, 203)
    assert _decode(images[0]) == [qr_payload(latin, options)]


def test_zpl_escapes_control_characters(options: LabelOptions) -> None:
    data = LabelData(asset_tag="A^B~C_D", name="x^y")
    zpl = render_zpl(data, options.model_copy(update={"qr_content": "tag"}))
    assert "^FH_^FDQA,A_5EB_7EC_5FD^FS" in zpl
    assert "^FH_^FDx_5Ey^FS" in zpl


def test_zpl_rejects_other_dpi(options: LabelOptions, latin: LabelData) -> None:
    with pytest.raises(LabelOptionError) as info:
        render_zpl(latin, options, dpi=600)
    assert info.value.code == "LABEL_OPTION_INVALID"
