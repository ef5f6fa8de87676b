"""What a label says: the data of one asset and the options of a print run.

The CMDB builds :class:`LabelData` from its configuration items; the label layer
never looks at the database itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(value: str) -> str:
    """Collapse runs of whitespace (newlines included) to one space and strip."""
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed on a label")
    return _WS.sub(" ", value).strip()


class LabelData(BaseModel):
    """The human-readable and machine-readable content of one asset label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asset_tag: str = Field(min_length=1, max_length=64, description="Unique asset tag.")
    name: str = Field(default="", max_length=200)
    model: str = Field(default="", max_length=200)
    serial_number: str = Field(default="", max_length=200)
    owner: str = Field(default="", max_length=200, description="Owner or department.")
    organisation: str | None = Field(
        default=None, max_length=200, description="Overrides LabelOptions.organisation."
    )
    extra: str | None = Field(default=None, max_length=200, description="Free extra line.")

    @field_validator("asset_tag", "name", "model", "serial_number", "owner")
    @classmethod
    def _normalise(cls, value: str) -> str:
        """Normalise whitespace so that a field is always a single printable line."""
        return _clean(value)

    @field_validator("organisation", "extra")
    @classmethod
    def _normalise_optional(cls, value: str | None) -> str | None:
        """Normalise optional lines; an empty line becomes ``None``."""
        if value is None:
            return None
        cleaned = _clean(value)
        return cleaned or None

    @field_validator("asset_tag")
    @classmethod
    def _tag_not_blank(cls, value: str) -> str:
        """An asset tag made only of spaces is no tag."""
        if not value:
            raise ValueError("asset_tag must not be blank")
        return value


class LabelOptions(BaseModel):
    """Options of a print run: what the QR holds, the organisation, fonts, extras.

    ``ec_level`` defaults to ``Q`` (25 % of the symbol may be lost): asset labels get
    scratched and dirty, which rules out L/M, while H (30 %) would need a larger QR
    version for the same URL and so smaller modules on the 21 mm high L7651 labels and
    on 203 dpi thermal printers, where module size matters more for reliable scanning.
    ``H`` can be chosen for harsh environments.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    qr_content: Literal["url", "tag"] = "url"
    public_base_url: str | None = Field(
        default=None, description="Base URL of the CMDB web UI, e.g. https://cmdb.example.com"
    )
    organisation: str | None = Field(default=None, max_length=200)
    ec_level: Literal["Q", "H"] = "Q"
    logo_path: Path | None = Field(default=None, description="PNG/JPEG logo by the organisation.")
    font_path: Path | None = Field(
        default=None, description="Font file to use; overrides CMDB_LABEL_FONT and discovery."
    )
    zpl_text: Literal["auto", "graphic"] = Field(
        default="auto",
        description="auto: ASCII lines as printer font ^A0, others as ^GF bitmaps; "
        "graphic: every line as a ^GF bitmap.",
    )
    border: bool = Field(default=False, description="Draw a hairline box around each label.")

    @field_validator("public_base_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        """Accept only absolute http(s) URLs; drop a trailing slash."""
        if value is None:
            return None
        value = value.strip()
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("public_base_url must be an absolute http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _url_needs_base(self) -> LabelOptions:
        """A QR holding a URL needs the base URL of the CMDB."""
        if self.qr_content == "url" and not self.public_base_url:
            raise ValueError("qr_content='url' needs public_base_url")
        return self


def qr_payload(data: LabelData, options: LabelOptions) -> str:
    """Return the text the QR code of ``data`` holds under ``options``.

    ``url`` gives ``{public_base_url}/a/{asset_tag}`` with the tag percent-encoded
    (every reserved character, including ``/``); ``tag`` gives the bare asset tag.
    """
    if options.qr_content == "tag":
        return data.asset_tag
    assert options.public_base_url is not None  # guaranteed by the model validator
    return f"{options.public_base_url}/a/{quote(data.asset_tag, safe='')}"
