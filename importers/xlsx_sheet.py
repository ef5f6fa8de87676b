"""Importer ``xlsx``: inventory sheets as Excel workbooks, read in streaming (read-only) mode.

Formulas are never evaluated: openpyxl is opened with ``data_only=False`` so a
formula cell yields its formula text (``=SUM(A1:A2)``), which is kept literally
and flagged ``FORMULA_TEXT``; cached results computed by Excel are ignored.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from cmdb.importers.columns import INVENTORY_TARGETS
from cmdb.importers.errors import ImportFileError, RecordError
from cmdb.importers.models import Kind, Observation
from cmdb.importers.options import ParseOptions
from cmdb.importers.tabular import Row, SheetSpec, limit_errors, parse_rows, resolve

SOURCE: Final = "xlsx"
KIND: Final[Kind] = "inventory"
DESCRIPTION: Final = "Inventory sheet as an Excel .xlsx workbook"
SPEC = SheetSpec(SOURCE, KIND, INVENTORY_TARGETS)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _check_container(path: Path, options: ParseOptions, label: str) -> None:
    """Refuse non-zip files, legacy .xls and zip bombs before openpyxl sees the file."""
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic == _OLE2:
        raise ImportFileError(
            "IMPORT_BAD_FILE", "legacy .xls workbook: save it as .xlsx", file=label
        )
    if not zipfile.is_zipfile(path):
        raise ImportFileError("IMPORT_BAD_FILE", "not an .xlsx workbook (zip)", file=label)
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ImportFileError("IMPORT_BAD_FILE", f"corrupt workbook: {exc}", file=label) from exc
    if total > options.max_xlsx_unzipped_bytes:
        raise ImportFileError(
            "IMPORT_TOO_LARGE",
            f"workbook unpacks to {total} bytes (bound {options.max_xlsx_unzipped_bytes})",
            file=label,
        )


def _cell(value: object) -> object:
    """Turn openpyxl formula objects into their literal formula text."""
    if isinstance(value, ArrayFormula):
        return str(value.text)
    if isinstance(value, DataTableFormula):
        return "=TABLE()"
    return value


def _parse(path: Path, options: ParseOptions) -> Iterator[Observation | RecordError]:
    """Stream one worksheet's rows into records."""
    label = options.label_for(path)
    _check_container(path, options, label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            wb = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many exception types for corrupt workbooks
        raise ImportFileError(
            "IMPORT_BAD_FILE", f"cannot open workbook: {exc}", file=label
        ) from exc
    try:
        if options.sheet is not None:
            if options.sheet not in wb.sheetnames:
                raise ImportFileError(
                    "IMPORT_BAD_FILE", f"no sheet named {options.sheet!r}", file=label
                )
            ws = wb[options.sheet]
        else:
            ws = wb.active or wb.worksheets[0]
        epoch_1904 = wb.epoch == CALENDAR_MAC_1904
        rows = enumerate(ws.iter_rows(max_col=options.max_columns, values_only=True), start=1)
        for number, cells in rows:
            if any(c is not None and str(c).strip() for c in cells):
                columns = resolve(SPEC, list(cells), options, label, number)
                break
        else:
            raise ImportFileError("IMPORT_BAD_HEADER", "the sheet is empty", file=label)
        data = (
            Row(line=n, record=i, cells=[_cell(c) for c in cells])
            for i, (n, cells) in enumerate(rows, start=1)
        )
        yield from limit_errors(
            parse_rows(SPEC, columns, data, options, label, sheet=ws.title, epoch_1904=epoch_1904),
            options,
            label,
        )
    finally:
        wb.close()


def parse(
    path: Path, *, options: ParseOptions | None = None
) -> Iterator[Observation | RecordError]:
    """Parse an inventory workbook lazily: one observation (or RecordErrors) per data row."""
    return _parse(path, options or ParseOptions())
