"""Importer ``xlsx``: inventory sheets as Excel workbooks, read in streaming (read-only) mode.

Formulas are never evaluated: openpyxl is opened with ``data_only=False`` so a
formula cell yields its formula text (``=SUM(A1:A2)``), which is kept literally
and flagged ``FORMULA_TEXT``; cached results computed by Excel are ignored.

The workbook is read from its content, never its name (an upload saved as
``upload`` imports like ``inventory.xlsx``). A workbook is a zip of XML parts and
openpyxl holds the whole shared-strings table in memory, so what a small file may
expand to is bounded before openpyxl opens it (each part's unpacked size, the
number and total length of the shared strings) and while its rows stream (rows,
non-empty cells, characters read): a few hundred KB that unpack to 90 MB of strings
are refused with ``IMPORT_TOO_LARGE`` naming the bound, in constant memory.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final
from xml.parsers import expat

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from importers.columns import INVENTORY_TARGETS
from importers.errors import ImportFileError, RecordError
from importers.models import Kind, Observation
from importers.options import ParseOptions
from importers.tabular import Row, SheetSpec, limit_errors, parse_rows, resolve

SOURCE: Final = "xlsx"
KIND: Final[Kind] = "inventory"
DESCRIPTION: Final = "Inventory sheet as an Excel .xlsx workbook"
SPEC = SheetSpec(SOURCE, KIND, INVENTORY_TARGETS)
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SCAN_CHUNK = 64 * 1024


class _BoundPassedError(Exception):
    """Raised inside the expat callbacks of the shared-strings scan."""


def _too_large(label: str, message: str) -> ImportFileError:
    return ImportFileError("IMPORT_TOO_LARGE", message, file=label)


def _check_container(path: Path, options: ParseOptions, label: str) -> None:
    """Refuse non-zip files, legacy .xls and zip bombs before openpyxl sees the file.

    The sizes come from the zip's directory; ``zipfile`` stops reading a part at its
    declared size (a part that lies fails its checksum), so they bound what openpyxl
    can unpack.
    """
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
            parts = zf.infolist()
            total = sum(info.file_size for info in parts)
            if total > options.max_xlsx_unzipped_bytes:
                raise _too_large(label, f"workbook unpacks to {total} bytes "
                                        f"(bound {options.max_xlsx_unzipped_bytes})")
            for info in parts:
                # Worksheets stream row by row; every other part is read whole.
                if info.filename.startswith("xl/worksheets/"):
                    continue
                if info.file_size > options.max_xlsx_part_bytes:
                    raise _too_large(label, f"part {info.filename} unpacks to "
                                            f"{info.file_size} bytes (bound "
                                            f"{options.max_xlsx_part_bytes})")
            strings = next((i for i in parts if i.filename.lower().endswith(
                "sharedstrings.xml")), None)
            if strings is not None:
                _check_shared_strings(zf, strings, options, label)
    except zipfile.BadZipFile as exc:
        raise ImportFileError("IMPORT_BAD_FILE", f"corrupt workbook: {exc}", file=label) from exc


def _check_shared_strings(zf: zipfile.ZipFile, info: zipfile.ZipInfo, options: ParseOptions,
                          label: str) -> None:
    """Count the shared strings and their characters, streaming, before openpyxl loads
    them all into memory; stop at the first bound passed."""
    count = chars = 0
    longest = options.max_xlsx_string_chars
    current = 0

    def start(tag: str, _attrs: object) -> None:
        nonlocal count, current
        if tag.rsplit(" ", 1)[-1] == "si":
            count += 1
            current = 0
            if count > options.max_xlsx_shared_strings:
                raise _BoundPassedError(
                    f"more than {options.max_xlsx_shared_strings} shared strings")

    def text(data: str) -> None:
        nonlocal chars, current
        chars += len(data)
        current += len(data)
        if current > longest:
            raise _BoundPassedError(f"shared string {count} is longer than {longest} characters "
                        "(Excel's own limit is 32,767)")
        if chars > options.max_xlsx_shared_chars:
            raise _BoundPassedError(f"the shared strings expand to more than "
                        f"{options.max_xlsx_shared_chars} characters")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_SCAN_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _BoundPassedError as exc:
        raise _too_large(label, f"{info.filename}: {exc}") from None
    except expat.ExpatError as exc:
        raise ImportFileError("IMPORT_BAD_FILE", f"corrupt workbook: {info.filename}: "
                              f"{expat.errors.messages[exc.code]}", file=label) from None


def _bounded(rows: Iterable[tuple[object, ...]], options: ParseOptions,
             label: str) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Number the sheet's rows and pass on those with a value, refusing a sheet that
    expands past the bounds. openpyxl fills the gap before a row numbered 5,000,000
    with empty rows: they are counted (and skipped) at C speed."""
    cells = chars = 0
    for number, row in enumerate(rows, start=1):
        if number > options.max_xlsx_rows:
            raise ImportFileError("IMPORT_TOO_LARGE", f"more than {options.max_xlsx_rows} "
                                  "rows", file=label, line=number)
        empty = row.count(None)
        if empty == len(row):
            continue
        cells += len(row) - empty
        chars += sum(len(v) for v in row if isinstance(v, str))
        if cells > options.max_xlsx_cells:
            raise ImportFileError("IMPORT_TOO_LARGE", f"more than {options.max_xlsx_cells} "
                                  "filled cells", file=label, line=number)
        if chars > options.max_xlsx_expanded_chars:
            raise ImportFileError("IMPORT_TOO_LARGE", "the cells expand to more than "
                                  f"{options.max_xlsx_expanded_chars} characters",
                                  file=label, line=number)
        yield number, row


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
    # An open file, not the path: openpyxl judges a path by its suffix, and an upload or
    # a register saved as "资产.XLSX.bak" is a workbook all the same.
    fh = path.open("rb")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many exception types for corrupt workbooks
        fh.close()
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
        rows = _bounded(ws.iter_rows(max_col=options.max_columns, values_only=True), options,
                        label)
        for number, cells in rows:
            if any(c is not None and str(c).strip() for c in cells):
                columns = resolve(SPEC, list(cells), options, label, number)
                header = number
                break
        else:
            raise ImportFileError("IMPORT_BAD_HEADER", "the sheet is empty", file=label)
        data = (
            Row(line=n, record=n - header, cells=[_cell(c) for c in cells])
            for n, cells in rows
        )
        yield from limit_errors(
            parse_rows(SPEC, columns, data, options, label, sheet=ws.title, epoch_1904=epoch_1904),
            options,
            label,
        )
    finally:
        wb.close()
        fh.close()


def parse(
    path: Path, *, options: ParseOptions | None = None
) -> Iterator[Observation | RecordError]:
    """Parse an inventory workbook lazily: one observation (or RecordErrors) per data row."""
    return _parse(path, options or ParseOptions())
