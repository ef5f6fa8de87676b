"""Options shared by every importer, with the safety bounds and their defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cmdb.importers.columns import ColumnMapping
from cmdb.importers.normalise import DateOrder
from cmdb.importers.placeholders import Placeholders, default_placeholders

MiB = 1024 * 1024


@dataclass(frozen=True)
class ParseOptions:
    """How to parse one file; every field has a safe default.

    ``file_label`` is the name errors and locators use (default: the file's
    name; pass the original upload name instead of a temp path); ``encoding``
    overrides the CSV decoding cascade; ``mapping`` adds header aliases (see
    :meth:`ColumnMapping.load`); ``placeholders`` replaces the built-in
    placeholder table; ``date_order`` resolves ``5/6/2023``-style dates.
    The ``max_*`` fields are the safety bounds.
    """

    encoding: str | None = None
    file_label: str | None = None
    mapping: ColumnMapping | None = None
    placeholders: Placeholders = field(default_factory=default_placeholders)
    delimiter: str | None = None
    sheet: str | None = None
    date_order: DateOrder = "ymd"
    max_field_chars: int = 100_000
    max_line_chars: int = 1 * MiB
    max_columns: int = 512
    max_xml_bytes: int = 256 * MiB
    max_xml_depth: int = 64
    max_json_bytes: int = 32 * MiB
    max_xlsx_unzipped_bytes: int = 1024 * MiB
    max_errors: int = 10_000

    def label_for(self, path: Path) -> str:
        """Return the name that errors and locators use for ``path``."""
        return self.file_label or path.name
