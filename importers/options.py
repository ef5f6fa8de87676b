"""Options shared by every importer, with the safety bounds and their defaults."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from importers.columns import ColumnMapping, ResolvedColumn
from importers.normalise import DateOrder
from importers.placeholders import Placeholders, default_placeholders

MiB = 1024 * 1024


@dataclass(frozen=True)
class ParseOptions:
    """How to parse one file; every field has a safe default.

    ``file_label`` is the name errors and locators use (default: the file's
    name; pass the original upload name instead of a temp path); ``encoding``
    overrides the CSV decoding cascade; ``mapping`` adds header aliases (see
    :meth:`ColumnMapping.load`); ``placeholders`` replaces the built-in
    placeholder table; ``date_order`` resolves ``5/6/2023``-style dates; ``zone`` is
    the time zone of times written without an offset (a sheet's ``2026-07-10 10:03``,
    an Excel date-time cell, an agent's ``LOGDATE``): they become aware datetimes in it
    (``None``: they stay naive); a time with an offset keeps its own; ``on_columns`` is
    told each header row's resolved columns.
    The ``max_*`` fields are the safety bounds. Those of workbooks bound what a small
    zip may expand to: the unpacked size of all parts and of each part read whole
    (worksheets stream), the shared strings (how many, their characters, the longest),
    and the sheet as read (rows, including the empty ones openpyxl fills in; filled
    cells; characters once shared strings are expanded).
    """

    encoding: str | None = None
    file_label: str | None = None
    mapping: ColumnMapping | None = None
    placeholders: Placeholders = field(default_factory=default_placeholders)
    delimiter: str | None = None
    sheet: str | None = None
    date_order: DateOrder = "ymd"
    zone: tzinfo | None = None
    max_field_chars: int = 100_000
    max_line_chars: int = 1 * MiB
    max_columns: int = 512
    max_xml_bytes: int = 256 * MiB
    max_xml_depth: int = 64
    max_json_bytes: int = 32 * MiB
    max_xlsx_unzipped_bytes: int = 1024 * MiB
    max_xlsx_part_bytes: int = 64 * MiB
    max_xlsx_shared_strings: int = 1_000_000
    max_xlsx_shared_chars: int = 32 * MiB
    max_xlsx_string_chars: int = 32_767
    max_xlsx_rows: int = 1_048_576
    max_xlsx_cells: int = 10_000_000
    max_xlsx_expanded_chars: int = 128 * MiB
    max_errors: int = 10_000
    #: Told the columns of each header row a sheet importer resolves (the import service
    #: names a party column in its outcomes by header and letter: ``责任人 (K)``).
    on_columns: Callable[[Sequence[ResolvedColumn]], None] | None = None

    def label_for(self, path: Path) -> str:
        """Return the name that errors and locators use for ``path``."""
        return self.file_label or path.name
