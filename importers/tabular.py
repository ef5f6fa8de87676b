"""Shared logic of the spreadsheet importers (csv, xlsx, scans): headers and rows to records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from pydantic import JsonValue

from importers.build import RecordBuilder
from importers.columns import ATTR_PREFIX, ResolvedColumn, describe_column, resolve_headers
from importers.errors import ImportErrorCode, ImportFileError, RecordError
from importers.models import Kind, Locator, Observation
from importers.normalise import restore_cell, split_list, split_location
from importers.options import ParseOptions

DATE_TARGETS = frozenset({"purchase_date", "warranty_end", "seen_at"})
LIST_TARGETS = frozenset({"mac_addresses", "ip_addresses", "hostnames"})
LOCATION_RANK = {"location:site": 0, "location": 1, "location:room": 2, "location:rack": 3}
IDENTIFYING = ("asset_tag", "ci_id", "serial_number", "system_uuid", "name", "fqdn")


@dataclass(frozen=True)
class SheetSpec:
    """What one spreadsheet-shaped source accepts: its targets and what a row must have."""

    source: str
    kind: Kind
    targets: Mapping[str, tuple[str, ...]]
    require_asset_tag: bool = False


@dataclass(frozen=True)
class Row:
    """One data row: 1-based first physical line (CSV) or sheet row, 1-based record number."""

    line: int
    record: int
    cells: Sequence[object]


def resolve(
    spec: SheetSpec, headers: Sequence[object], options: ParseOptions, label: str, line: int
) -> list[ResolvedColumn]:
    """Resolve the header row or raise ``ImportFileError`` naming the bad header and column."""
    texts = ["" if h is None else str(h) for h in headers]
    while texts and not texts[-1].strip():
        texts.pop()
    if not texts:
        raise ImportFileError("IMPORT_BAD_HEADER", "no header row", file=label, line=line)
    if len(texts) > options.max_columns:
        raise ImportFileError(
            "IMPORT_TOO_LARGE", f"more than {options.max_columns} columns", file=label, line=line
        )
    result = resolve_headers(texts, spec.targets, options.mapping, LIST_TARGETS)
    if isinstance(result, list):
        if spec.require_asset_tag and not any(c.target == "asset_tag" for c in result):
            raise ImportFileError(
                "IMPORT_BAD_HEADER", "no asset tag column (资产编号)", file=label, line=line
            )
        if options.on_columns is not None:
            options.on_columns(result)
        return result
    code: ImportErrorCode = "IMPORT_UNKNOWN_HEADER" if result.unknown else "IMPORT_BAD_HEADER"
    raise ImportFileError(code, result.message, file=label, line=line, column=result.column)


def _as_text(value: object) -> str:
    """Render a non-empty cell value as text (integral floats lose their ``.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _as_json(value: object) -> JsonValue:
    """Keep numbers and booleans as they are for ``attributes``; everything else as text."""
    if isinstance(value, bool | int | float | str):
        return value
    return _as_text(value)


def _apply(
    b: RecordBuilder, col: ResolvedColumn, value: object, parts: dict[int, list[str]]
) -> None:
    """Route one cell to the builder according to its column's target."""
    target = col.target
    assert target is not None
    if target in DATE_TARGETS:
        b.when(target, value, col.label)
        return
    if isinstance(value, str):
        value = restore_cell(value)  # an export's neutralised formula text
    if target.startswith(ATTR_PREFIX):
        b.attribute(target[len(ATTR_PREFIX) :], _as_json(value))
        return
    text = _as_text(value)
    b.check_formula(target, text)
    if target == "mac_addresses":
        for item in split_list(text):
            b.mac(item, col.label)
    elif target == "ip_addresses":
        for item in split_list(text):
            b.ip(item, col.label)
    elif target == "hostnames":
        for item in split_list(text):
            b.hostname(item)
    elif target in LOCATION_RANK:
        parts.setdefault(LOCATION_RANK[target], []).extend(split_location(text))
    else:
        b.text(target, text)


def row_records(
    spec: SheetSpec,
    columns: Sequence[ResolvedColumn],
    row: Row,
    options: ParseOptions,
    label: str,
    *,
    sheet: str | None = None,
    epoch_1904: bool = False,
) -> Iterator[Observation | RecordError]:
    """Turn one data row into an observation or RecordErrors; blank rows yield nothing."""
    cells = row.cells
    if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
        return
    locator = Locator(file=label, line=row.line, record=row.record, sheet=sheet)
    b = RecordBuilder(
        spec.source,
        spec.kind,
        locator,
        options.placeholders,
        date_order=options.date_order,
        epoch_1904=epoch_1904,
        zone=options.zone,
    )
    parts: dict[int, list[str]] = {}
    for index, value in enumerate(cells):
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if index >= len(columns):
            b.error(None, "value in a column that has no header", describe_column(index, ""), value)
            continue
        col = columns[index]
        if col.target is None:
            continue
        if isinstance(value, str) and len(value) > options.max_field_chars:
            b.error(
                col.target,
                f"field longer than {options.max_field_chars} characters",
                col.label,
                value,
            )
            continue
        _apply(b, col, value, parts)
    for rank in sorted(parts):
        b.location.extend(parts[rank])
    if spec.require_asset_tag and "asset_tag" not in b.values and not b.errors:
        b.error("asset_tag", "asset tag is missing or a placeholder")
    identified = any(k in b.values for k in IDENTIFYING) or b.hostnames or b.macs or b.ips
    if not identified and not b.errors:
        b.error(None, "row has no identifying value (asset tag, serial, name, MAC, IP, host)")
    yield from b.finish()


def parse_rows(
    spec: SheetSpec,
    columns: Sequence[ResolvedColumn],
    rows: Iterable[Row],
    options: ParseOptions,
    label: str,
    *,
    sheet: str | None = None,
    epoch_1904: bool = False,
) -> Iterator[Observation | RecordError]:
    """Turn data rows into records, bounding the number of errors."""
    for row in rows:
        yield from row_records(
            spec, columns, row, options, label, sheet=sheet, epoch_1904=epoch_1904
        )


def limit_errors(
    records: Iterable[Observation | RecordError], options: ParseOptions, label: str
) -> Iterator[Observation | RecordError]:
    """Pass records through, raising ``IMPORT_TOO_MANY_ERRORS`` past ``options.max_errors``."""
    errors = 0
    for record in records:
        if isinstance(record, RecordError):
            errors += 1
            if errors > options.max_errors:
                raise ImportFileError(
                    "IMPORT_TOO_MANY_ERRORS",
                    f"more than {options.max_errors} bad records; is this the right file type?",
                    file=label,
                    line=record.line,
                )
        yield record
