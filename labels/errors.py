"""Errors raised by the label layer.

Every error carries a stable machine-readable ``code`` so that the CMDB can map
it into its own error tree (and the API can return it) without parsing
messages.
"""

from __future__ import annotations


class LabelError(Exception):
    """Base class of every error raised by :mod:`labels`."""

    code: str = "LABEL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateInvalidError(LabelError):
    """A template file (or a template dict) does not validate; names file and field."""

    code = "TEMPLATE_INVALID"


class TemplateNotFoundError(LabelError):
    """The requested template name is not among the loaded templates."""

    code = "TEMPLATE_NOT_FOUND"


class LabelFontMissingError(LabelError):
    """No usable font file was found (or the configured one does not exist)."""

    code = "LABEL_FONT_MISSING"


class LabelGlyphMissingError(LabelError):
    """The text holds characters that no available font can draw (would be tofu)."""

    code = "LABEL_GLYPH_MISSING"

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing


class LabelDataError(LabelError):
    """The label data cannot be rendered (e.g. the QR payload is too long)."""

    code = "LABEL_DATA_INVALID"


class LabelOptionError(LabelError):
    """A rendering option is out of range (dpi, start offset, output kind...)."""

    code = "LABEL_OPTION_INVALID"
