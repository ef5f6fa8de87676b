"""Importer ``csv``: inventory sheets saved as CSV (UTF-8, UTF-8 BOM, GBK/GB18030, UTF-16)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from importers.columns import INVENTORY_TARGETS
from importers.csvread import read_csv
from importers.errors import RecordError
from importers.models import Kind, Observation
from importers.options import ParseOptions
from importers.tabular import Row, SheetSpec, limit_errors, parse_rows, resolve

SOURCE: Final = "csv"
KIND: Final[Kind] = "inventory"
DESCRIPTION: Final = "Inventory sheet as CSV (English or Chinese headers)"
SPEC = SheetSpec(SOURCE, KIND, INVENTORY_TARGETS)


def parse_sheet_csv(
    spec: SheetSpec, path: Path, options: ParseOptions
) -> Iterator[Observation | RecordError]:
    """Parse any CSV-shaped source described by ``spec`` (shared with ``scans``)."""
    label = options.label_for(path)
    records = read_csv(path, options)
    header = next(records, None)
    if header is None:
        return
    line, cells = header
    columns = resolve(spec, cells, options, label, line)
    rows = (Row(line=ln, record=n, cells=c) for n, (ln, c) in enumerate(records, start=1))
    yield from limit_errors(parse_rows(spec, columns, rows, options, label), options, label)


def parse(
    path: Path, *, options: ParseOptions | None = None
) -> Iterator[Observation | RecordError]:
    """Parse an inventory CSV lazily: one observation (or RecordErrors) per data row."""
    return parse_sheet_csv(SPEC, path, options or ParseOptions())
