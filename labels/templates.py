"""Label templates as data: YAML files validated with pydantic.

A template says where labels sit on a page (sheet stock) or that every label is
its own page (roll stock), how much of each label is kept blank, how large the QR
is and which fields are printed at which font size.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from labels.errors import TemplateInvalidError, TemplateNotFoundError

BUILTIN_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATES_ENV = "CMDB_LABEL_TEMPLATES"
_EPS = 0.01  # mm of rounding slack in the geometry checks

FieldName = Literal["asset_tag", "name", "model_serial", "owner", "organisation", "extra"]


class _Strict(BaseModel):
    """Base of the template models: unknown keys are errors, instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Size(_Strict):
    """A width and a height in millimetres."""

    width_mm: float = Field(gt=0, le=2000)
    height_mm: float = Field(gt=0, le=2000)


class Margins(_Strict):
    """Distance from the page's top-left corner to the first label's top-left corner."""

    top_mm: float = Field(default=0.0, ge=0)
    left_mm: float = Field(default=0.0, ge=0)


class Pitch(_Strict):
    """Distance between the top-left corners of neighbouring labels (label + gap)."""

    horizontal_mm: float = Field(gt=0)
    vertical_mm: float = Field(gt=0)


class QrSpec(_Strict):
    """Size of the QR box (quiet zone included); default: the label's content height."""

    size_mm: float | None = Field(default=None, gt=5)


class FieldSpec(_Strict):
    """One printed line (or block of lines) of the label, in the order given."""

    field: FieldName
    font_size_pt: float = Field(gt=2, le=72)
    min_font_size_pt: float | None = Field(default=None, gt=2, le=72)
    max_lines: int = Field(default=1, ge=1, le=4)

    @model_validator(mode="after")
    def _sizes(self) -> FieldSpec:
        """The smallest size the text may shrink to is not above its nominal size."""
        if self.min_font_size_pt is not None and self.min_font_size_pt > self.font_size_pt:
            raise ValueError("min_font_size_pt must not exceed font_size_pt")
        return self

    @property
    def min_size(self) -> float:
        """The smallest font size this field may be shrunk to."""
        return self.min_font_size_pt if self.min_font_size_pt is not None else self.font_size_pt


class LabelTemplate(_Strict):
    """A label stock: sheet geometry (or roll), blank padding, QR size and fields."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    kind: Literal["sheet", "roll"]
    page: Size | None = None
    label: Size
    margins: Margins = Margins()
    pitch: Pitch | None = None
    columns: int = Field(default=1, ge=1, le=50)
    rows: int = Field(default=1, ge=1, le=100)
    corner_radius_mm: float = Field(default=0.0, ge=0)
    padding_mm: float = Field(default=1.5, ge=0)
    qr: QrSpec = QrSpec()
    fields: list[FieldSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _geometry(self) -> LabelTemplate:
        """Check that the labels fit on the page and do not overlap."""
        if self.kind == "roll":
            if self.columns != 1 or self.rows != 1 or self.pitch is not None:
                raise ValueError("a roll template has one label per page: no pitch/columns/rows")
        else:
            if self.page is None or self.pitch is None:
                raise ValueError("a sheet template needs page and pitch")
            if self.pitch.horizontal_mm + _EPS < self.label.width_mm and self.columns > 1:
                raise ValueError("pitch.horizontal_mm is smaller than the label width")
            if self.pitch.vertical_mm + _EPS < self.label.height_mm and self.rows > 1:
                raise ValueError("pitch.vertical_mm is smaller than the label height")
            right = (
                self.margins.left_mm
                + (self.columns - 1) * self.pitch.horizontal_mm
                + self.label.width_mm
            )
            bottom = (
                self.margins.top_mm
                + (self.rows - 1) * self.pitch.vertical_mm
                + self.label.height_mm
            )
            if right > self.page.width_mm + _EPS or bottom > self.page.height_mm + _EPS:
                raise ValueError(f"labels exceed the page ({right:.2f} x {bottom:.2f} mm)")
        content_h = self.label.height_mm - 2 * self.padding_mm
        if content_h <= 5:
            raise ValueError("padding_mm leaves no room on the label")
        if self.qr.size_mm is not None and self.qr.size_mm > content_h + _EPS:
            raise ValueError("qr.size_mm exceeds the label height less padding")
        if not any(f.field == "asset_tag" for f in self.fields):
            raise ValueError("fields must include asset_tag")
        return self

    @property
    def page_size(self) -> Size:
        """Size of one PDF page: the sheet, or the label itself for roll stock."""
        return self.page if self.page is not None else self.label

    @property
    def per_page(self) -> int:
        """How many labels one page holds."""
        return self.columns * self.rows

    @property
    def qr_box_mm(self) -> float:
        """Side of the square QR box (quiet zone included)."""
        content_h = self.label.height_mm - 2 * self.padding_mm
        return self.qr.size_mm if self.qr.size_mm is not None else content_h

    def label_origin(self, slot: int) -> tuple[float, float]:
        """Top-left corner (x, y in mm from the page's top-left) of label ``slot`` on a page.

        Slots are numbered row by row: 0 is top-left, ``columns - 1`` is top-right.
        """
        if not 0 <= slot < self.per_page:
            raise ValueError(f"slot {slot} outside 0..{self.per_page - 1}")
        if self.pitch is None:
            return (0.0, 0.0)
        row, col = divmod(slot, self.columns)
        return (
            self.margins.left_mm + col * self.pitch.horizontal_mm,
            self.margins.top_mm + row * self.pitch.vertical_mm,
        )


def _format_validation(path: Path, exc: ValidationError) -> str:
    """Turn a pydantic error into one line per problem, naming file and field."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(template)"
        lines.append(f"{path}: field '{loc}': {err['msg']}")
    return "invalid label template: " + "; ".join(lines)


def parse_template(path: Path) -> LabelTemplate:
    """Read and validate one YAML template file; the file stem must equal its name."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TemplateInvalidError(f"invalid label template: {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise TemplateInvalidError(f"invalid label template: {path}: top level must be a mapping")
    try:
        template = LabelTemplate.model_validate(raw)
    except ValidationError as exc:
        raise TemplateInvalidError(_format_validation(path, exc)) from exc
    if template.name != path.stem:
        raise TemplateInvalidError(
            f"invalid label template: {path}: field 'name': '{template.name}' "
            f"must equal the file name '{path.stem}'"
        )
    return template


def _load_dir(directory: Path) -> dict[str, LabelTemplate]:
    """Load every ``*.yaml``/``*.yml`` template of one directory."""
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    return {t.name: t for t in (parse_template(f) for f in files)}


@lru_cache(maxsize=1)
def _builtin() -> dict[str, LabelTemplate]:
    """The templates shipped with the package (cached: they never change at run time)."""
    return _load_dir(BUILTIN_DIR)


def load_templates(extra_dir: Path | None = None) -> dict[str, LabelTemplate]:
    """Return all templates by name: the built-in ones plus user templates.

    User templates come from ``extra_dir`` or, if not given, from the directory
    named by the ``CMDB_LABEL_TEMPLATES`` environment variable; a user template
    replaces a built-in one of the same name.
    """
    templates = dict(_builtin())
    user = extra_dir if extra_dir is not None else os.environ.get(TEMPLATES_ENV)
    if user:
        directory = Path(user)
        if not directory.is_dir():
            raise TemplateInvalidError(f"label template directory not found: {directory}")
        templates.update(_load_dir(directory))
    return templates


def get_template(name: str, extra_dir: Path | None = None) -> LabelTemplate:
    """Return the template called ``name`` or raise :class:`TemplateNotFoundError`."""
    templates = load_templates(extra_dir)
    try:
        return templates[name]
    except KeyError:
        known = ", ".join(sorted(templates))
        raise TemplateNotFoundError(f"unknown label template '{name}' (known: {known})") from None
