"""CJK text: the font is embedded (subset), text is extractable, missing glyphs fail loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fontTools import subset
from fontTools.ttLib import TTFont

from labels import (
    LabelData,
    LabelFontMissingError,
    LabelGlyphMissingError,
    LabelOptions,
    render_pdf,
    render_png,
    render_svg,
    render_zpl,
)
from labels.fonts import FONT_ENV, candidate_faces, font_for_text

JAPANESE_KOREAN = LabelData(asset_tag="JP-0001", name="サーバー室 東京", owner="서버실 서울")


def _page_text(pdf: bytes) -> str:
    """All text pypdfium2 extracts from the PDF."""
    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


def test_pdf_embeds_subset_font_and_text_is_extractable(
    options: LabelOptions, chinese: LabelData
) -> None:
    pdf = render_pdf([chinese, JAPANESE_KOREAN], options, "avery-l7160")
    # an embedded TrueType program, subset (six-letter tag prefix on the font name)
    assert b"/FontFile2" in pdf
    assert re.search(rb"/BaseFont /[A-Z]{6}\+", pdf) is not None
    assert b"/ToUnicode" in pdf
    assert len(pdf) < 200_000  # a subset, not the 5 MB font
    text = _page_text(pdf)
    for expected in ("核心交换机 北京", "信息技术部", "北京示例科技有限公司", "サーバー室 東京"):
        assert expected in text
    assert "서버실 서울" in text


def _latin_only_font(tmp_path: Path) -> Path:
    """A real font without any CJK glyph: the discovered font subset to ASCII."""
    face = candidate_faces()[0]
    font = TTFont(str(face.path), fontNumber=face.index)
    subsetter = subset.Subsetter(subset.Options())
    subsetter.populate(text="".join(chr(c) for c in range(0x20, 0x7F)) + "…")
    subsetter.subset(font)
    target = tmp_path / "latin-only.ttf"
    font.save(str(target))
    font.close()
    return target


def test_missing_glyphs_name_the_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: LabelOptions, chinese: LabelData
) -> None:
    monkeypatch.setenv(FONT_ENV, str(_latin_only_font(tmp_path)))
    for render in (
        lambda: render_png(chinese, options),
        lambda: render_svg(chinese, options),
        lambda: render_pdf([chinese], options),
        lambda: render_zpl([chinese], options),
    ):
        with pytest.raises(LabelGlyphMissingError) as info:
            render()
        assert info.value.code == "LABEL_GLYPH_MISSING"
        assert "'核' (U+6838)" in info.value.message
        assert "核" in info.value.missing
        assert "京" in info.value.missing
        assert FONT_ENV in info.value.message


def test_character_no_font_has(options: LabelOptions) -> None:
    data = LabelData(asset_tag="EG-1", name="hieroglyph \U00013000")
    with pytest.raises(LabelGlyphMissingError) as info:
        render_pdf([data], options)
    assert info.value.missing == ["\U00013000"]
    assert "U+13000" in str(info.value)


def test_configured_font_must_exist(
    monkeypatch: pytest.MonkeyPatch, options: LabelOptions, latin: LabelData
) -> None:
    monkeypatch.setenv(FONT_ENV, "/nonexistent/font.ttf")
    with pytest.raises(LabelFontMissingError) as info:
        render_png(latin, options)
    assert info.value.code == "LABEL_FONT_MISSING"
    assert "/nonexistent/font.ttf" in str(info.value)


def test_font_option_overrides_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: LabelOptions, latin: LabelData
) -> None:
    latin_font = _latin_only_font(tmp_path)
    monkeypatch.setenv(FONT_ENV, "/nonexistent/font.ttf")
    opts = options.model_copy(update={"font_path": latin_font})
    assert render_png(latin, opts).startswith(b"\x89PNG")
    assert font_for_text("abc", latin_font).face.path == latin_font


def test_default_font_covers_chinese_japanese_korean() -> None:
    font = font_for_text("核心交换机 北京 サーバー 서버실 Ünïcødé")
    assert font.missing("核心交换机") == []
