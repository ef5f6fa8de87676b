"""Asset labels for the CMDB: what a label says (QR + text) and how it is output.

Pure layer: no web framework and no database driver. The CMDB builds
:class:`LabelData` from its configuration items and calls one of the renderers:

* :func:`render_png` / :func:`render_svg` - one label;
* :func:`render_pdf` - a batch on label sheets or roll pages;
* :func:`render_zpl` - one label or a batch for Zebra printers.

Errors are :class:`labels.errors.LabelError` subclasses with a ``code``.
"""

from __future__ import annotations

from labels.api import (
    DEFAULT_TEMPLATE,
    DEFAULT_ZPL_TEMPLATE,
    layout_label,
    render_pdf,
    render_png,
    render_svg,
    render_zpl,
)
from labels.errors import (
    LabelDataError,
    LabelError,
    LabelFontMissingError,
    LabelGlyphMissingError,
    LabelOptionError,
    TemplateInvalidError,
    TemplateNotFoundError,
)
from labels.models import LabelData, LabelOptions, qr_payload
from labels.pdf import ProgressCallback
from labels.templates import LabelTemplate, get_template, load_templates

__all__ = [
    "DEFAULT_TEMPLATE",
    "DEFAULT_ZPL_TEMPLATE",
    "LabelData",
    "LabelDataError",
    "LabelError",
    "LabelFontMissingError",
    "LabelGlyphMissingError",
    "LabelOptionError",
    "LabelOptions",
    "LabelTemplate",
    "ProgressCallback",
    "TemplateInvalidError",
    "TemplateNotFoundError",
    "get_template",
    "layout_label",
    "load_templates",
    "qr_payload",
    "render_pdf",
    "render_png",
    "render_svg",
    "render_zpl",
]
