"""Templates as validated data, label data models and the QR payload."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from labels import (
    LabelData,
    LabelOptions,
    TemplateInvalidError,
    TemplateNotFoundError,
    get_template,
    load_templates,
    qr_payload,
)

GOOD = """\
name: {name}
kind: roll
label: {{width_mm: 50, height_mm: 30}}
fields:
  - {{field: asset_tag, font_size_pt: 10}}
"""


def test_shipped_templates() -> None:
    templates = load_templates()
    assert {"avery-l7160", "avery-l7651", "avery-5160", "brother-dk-62x29", "dymo-89x36"} <= set(
        templates
    )
    l7160 = templates["avery-l7160"]
    assert (l7160.columns, l7160.rows, l7160.label.width_mm, l7160.label.height_mm) == (
        3,
        7,
        63.5,
        38.1,
    )
    assert templates["avery-l7651"].per_page == 65
    assert templates["avery-5160"].label.width_mm == pytest.approx(2.625 * 25.4)
    assert templates["dymo-89x36"].kind == "roll"


def test_bad_template_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad-one.yaml"
    bad.write_text(GOOD.format(name="bad-one").replace("font_size_pt: 10", "font_size: 10"))
    with pytest.raises(TemplateInvalidError) as info:
        load_templates(tmp_path)
    message = str(info.value)
    assert info.value.code == "TEMPLATE_INVALID"
    assert str(bad) in message
    assert "fields.0.font_size" in message
    assert "fields.0.font_size_pt" in message


def test_template_geometry_checked(tmp_path: Path) -> None:
    (tmp_path / "too-wide.yaml").write_text(
        "name: too-wide\nkind: sheet\npage: {width_mm: 100, height_mm: 100}\n"
        "label: {width_mm: 60, height_mm: 30}\npitch: {horizontal_mm: 60, vertical_mm: 30}\n"
        "columns: 2\nfields: [{field: asset_tag, font_size_pt: 10}]\n"
    )
    with pytest.raises(TemplateInvalidError, match=r"too-wide\.yaml.*exceed the page"):
        load_templates(tmp_path)


def test_name_must_match_file_and_yaml_errors(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(GOOD.format(name="y"))
    with pytest.raises(TemplateInvalidError, match="field 'name'"):
        load_templates(tmp_path)
    (tmp_path / "x.yaml").write_text("name: [unclosed\n")
    with pytest.raises(TemplateInvalidError, match=r"x\.yaml"):
        load_templates(tmp_path)


def test_user_templates_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mine.yaml").write_text(GOOD.format(name="mine"))
    monkeypatch.setenv("CMDB_LABEL_TEMPLATES", str(tmp_path))
    assert get_template("mine").label.width_mm == 50
    with pytest.raises(TemplateNotFoundError) as info:
        get_template("nope")
    assert info.value.code == "TEMPLATE_NOT_FOUND"
    assert "avery-l7160" in str(info.value)


def test_payload_modes() -> None:
    data = LabelData(asset_tag="  ZC-2024-0042 ", name="a\n  b")
    assert data.asset_tag == "ZC-2024-0042"
    assert data.name == "a b"
    url = LabelOptions(public_base_url="https://cmdb.example.com/")
    assert qr_payload(data, url) == "https://cmdb.example.com/a/ZC-2024-0042"
    tag = LabelOptions(qr_content="tag")
    assert qr_payload(data, tag) == "ZC-2024-0042"


def test_model_validation() -> None:
    with pytest.raises(ValidationError):
        LabelOptions()  # url mode needs a base URL
    with pytest.raises(ValidationError):
        LabelOptions(public_base_url="cmdb.example.com")
    with pytest.raises(ValidationError):
        LabelData(asset_tag="   ")
    with pytest.raises(ValidationError):
        LabelData(asset_tag="A", unknown="x")  # type: ignore[call-arg]  # extra="forbid" check
    with pytest.raises(ValidationError):
        LabelData(asset_tag="A\x00B")
