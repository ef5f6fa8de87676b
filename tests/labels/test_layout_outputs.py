"""Layout rules (no overlap, fitting) and the output formats' basics."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from labels import (
    LabelData,
    LabelOptionError,
    LabelOptions,
    layout_label,
    load_templates,
    render_pdf,
    render_png,
    render_svg,
)

LONG = LabelData(
    asset_tag="ZC-2024-0042-EXTRA-LONG-TAG",
    name="核心交换机 北京 数据中心 三号楼 二层 A 区 机柜 12 " * 3,
    model="Very Long Model Name " * 4,
    serial_number="SN" * 30,
    owner="Department of Extremely Long Names and Other Things",
    extra="extra line",
)


@pytest.mark.parametrize("template", sorted(load_templates()))
def test_text_stays_beside_the_qr_and_on_the_label(
    template: str, options: LabelOptions, latin: LabelData, chinese: LabelData
) -> None:
    tpl = load_templates()[template]
    for data in (latin, chinese, LONG):
        layout = layout_label(data, options, template)
        qr_right = layout.qr_box.x_mm + layout.qr_box.w_mm
        assert layout.qr_box.y_mm >= tpl.padding_mm - 1e-6
        assert layout.lines[0].field == "asset_tag"
        for line in layout.lines:
            size_mm = line.size_pt * 25.4 / 72
            assert line.x_mm >= qr_right
            assert line.x_mm + line.width_mm <= tpl.label.width_mm - tpl.padding_mm + 1e-6
            assert line.baseline_mm - size_mm * layout.font.ascent >= tpl.padding_mm - 0.05
            assert line.baseline_mm + size_mm * layout.font.descent <= (
                tpl.label.height_mm - tpl.padding_mm + 0.05
            )
        baselines = [line.baseline_mm for line in layout.lines]
        assert baselines == sorted(baselines)
    long_layout = layout_label(LONG, options, template)
    assert any(line.text.endswith("…") for line in long_layout.lines)


def test_asset_tag_is_largest(options: LabelOptions, latin: LabelData) -> None:
    layout = layout_label(latin, options, "dymo-89x36")
    sizes = [line.size_pt for line in layout.lines]
    assert sizes[0] == max(sizes)


def test_png_size_follows_dpi(options: LabelOptions, latin: LabelData) -> None:
    for dpi in (150, 300, 600):
        with Image.open(io.BytesIO(render_png(latin, options, "avery-l7160", dpi=dpi))) as img:
            assert img.size == (round(63.5 / 25.4 * dpi), round(38.1 / 25.4 * dpi))
    with pytest.raises(LabelOptionError):
        render_png(latin, options, dpi=10)


def test_svg_is_wellformed_and_self_contained(options: LabelOptions, chinese: LabelData) -> None:
    svg = render_svg(chinese, options, "dymo-89x36")
    root = ET.fromstring(svg.encode())
    assert root.get("width") == "89mm"
    assert root.get("height") == "36mm"
    labels = [el.get("aria-label") for el in root.iter() if el.get("aria-label")]
    assert "核心交换机 北京" in labels
    assert "https://cmdb.example.com/a/ZC-2024-0043" in labels
    assert "<text" not in svg  # outlines: no font needed in the viewer


def test_progress_and_offsets(options: LabelOptions, latin: LabelData) -> None:
    calls: list[tuple[int, int]] = []
    render_pdf([latin] * 5, options, "avery-l7160", progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    with pytest.raises(LabelOptionError):
        render_pdf([latin], options, "avery-l7160", start_offset=21)
    with pytest.raises(LabelOptionError):
        render_pdf([latin], options, "avery-l7160", start_offset=-1)
    with pytest.raises(LabelOptionError):
        render_pdf([latin], options, "dymo-89x36", start_offset=1)


def test_logo_is_drawn(tmp_path: pytest.TempPathFactory, options: LabelOptions) -> None:
    logo = tmp_path / "logo.png"  # type: ignore[operator]  # tmp_path is a Path
    Image.new("RGB", (60, 30), (200, 0, 0)).save(logo)
    opts = options.model_copy(update={"logo_path": logo})
    layout = layout_label(LabelData(asset_tag="L-1"), opts, "dymo-89x36")
    assert layout.logo is not None
    assert layout.logo.w_mm == pytest.approx(layout.logo.h_mm * 2, rel=0.01)
    png = render_png(LabelData(asset_tag="L-1"), opts, "dymo-89x36")
    with Image.open(io.BytesIO(png)) as img:
        assert img.convert("L").getextrema()[0] == 0
    assert b"/Subtype /Image" in render_pdf([LabelData(asset_tag="L-1")], opts, "dymo-89x36")


def test_pure_layer_imports_no_framework_or_driver() -> None:
    import subprocess
    import sys

    code = (
        "import sys, labels\n"
        "bad = {'starlette', 'strawberry', 'uvicorn', 'neo4j', 'sqlalchemy', 'fastapi'}\n"
        "print(sorted(bad & {m.split('.')[0] for m in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
