"""The register as a spreadsheet: CSV (UTF-8 with BOM, or GB18030) and XLSX, streamed.

An export reads the CIs a filter selects (the filter of the GraphQL ``cis`` query)
page by page through the store's cursor paging, so 100,000 CIs cost one page of
memory, and writes them with the headers the sheet importer knows (``资产编号``,
``名称``, ``类别`` ... or ``Asset tag``, ``Name``, ``Class`` ...): the file imports back
through the ``csv`` or ``xlsx`` source unchanged, so export, re-import, nothing
changes. Values are written as the importer reads them: a class and a state by their
Chinese (or English) label, the place as its path from the site down
(``北京总部/3楼机房/A01机柜``), the manufacturer by the vendor table's display name,
lists joined with ``, ``; attributes the importer has no built-in header for get an
``attributes.<name>`` column; the last column, the CI's id (``配置项ID``), finds a CI
that has no asset tag (a place, a person) again. Text a spreadsheet would run as a
formula is neutralised with a leading ``'`` (:func:`safe_cell`), which the importer
takes off again.

The monthly configuration list (配置清单) is an XLSX workbook with one sheet per class:
the register's columns and each CI's relationships, both ways.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import tempfile
from collections.abc import AsyncIterator, Generator, Sequence
from typing import IO, Any

from cmdb.errors import ValidationError
from cmdb.model.queries import CISelection
from cmdb.services.cis.export_rows import (
    COLUMNS,
    RELATIONSHIPS,
    CIExport,
    Column,
    Encoding,
    Format,
    Lang,
    Progress,
    find_party,
    find_place,
    safe_cell,
)
from cmdb.services.cis.inputs import CIFilterInput

__all__ = ["COLUMNS", "CIExport", "Column", "Encoding", "Format", "Lang", "chunks",
           "config_list_chunks", "csv_chunks", "find_party", "find_place", "safe_cell",
           "write_file", "xlsx_chunks"]
#: Bytes gathered before a chunk is handed to the caller (an HTTP response).
CHUNK = 64 * 1024

#: First characters that may need :func:`safe_cell` (a quick test before the full one).
RISKY = frozenset("=+-@\t\r＝＋－＠'")


def csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_cell(value) if value[:1] in RISKY else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


#: Characters an XLSX cell cannot hold (XML 1.0 forbids them; openpyxl refuses them).
XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Excel's longest cell.
XLSX_CELL_CHARS = 32_767


def xlsx_value(value: Any) -> Any:
    """A value as an XLSX cell: text neutralised, without the control characters XML
    cannot carry, within Excel's cell length."""
    if not isinstance(value, str):
        return value
    if value[:1] in RISKY:
        value = safe_cell(value)
    if XLSX_ILLEGAL.search(value):
        value = XLSX_ILLEGAL.sub("", value)
    return value[:XLSX_CELL_CHARS]


def csv_lines(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([[csv_text(v) for v in row] for row in rows])
    return buf.getvalue()


def _encode(text: str, encoding: Encoding, first: bool) -> bytes:
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig" if first else "utf-8")
    try:
        return text.encode("gb18030")
    except UnicodeEncodeError as exc:  # GB18030 covers all of Unicode but surrogates
        raise ValidationError(f"a value cannot be written in GB18030: {exc.reason}",
                              field="encoding") from exc


async def csv_chunks(export: CIExport, f: CIFilterInput | None, *, lang: Lang = "zh-CN",
                     encoding: Encoding = "utf-8-sig", progress: Progress | None = None
                     ) -> AsyncIterator[bytes]:
    """The register as CSV bytes, the header first, then a chunk every page or so: an
    HTTP response starts at once and memory holds one page."""
    selection = export.selection(f)
    sheet = export.sheet(selection)
    yield _encode(csv_lines([sheet.headers(lang)]), encoding, True)
    pending: list[bytes] = []
    size = 0
    async for page in export.pages(selection):
        data = _encode(csv_lines(await export.rows(page, sheet, lang)), encoding, False)
        pending.append(data)
        size += len(data)
        if progress:
            progress(len(page))
        if size >= CHUNK:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _new_workbook() -> Any:
    import openpyxl  # only when a workbook is written: it takes a moment to import

    return openpyxl.Workbook(write_only=True)


def _sheet_title(text: str, used: set[str]) -> str:
    """A worksheet name Excel accepts (31 characters, none of ``[]:*?/\\``), unique."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in text)[:31] or "Sheet"
    title, n = clean, 2
    while title.casefold() in used:
        suffix = f" ({n})"
        title, n = clean[:31 - len(suffix)] + suffix, n + 1
    used.add(title.casefold())
    return title


def _spool(workbook: Any) -> IO[bytes]:
    """Save a write-only workbook to a temporary file and rewind it."""
    fh = tempfile.TemporaryFile()  # noqa: SIM115  # the caller reads and closes it
    workbook.save(fh)
    fh.seek(0)
    return fh


def _file_chunks(fh: IO[bytes]) -> Generator[bytes, None, None]:
    with fh:
        while block := fh.read(CHUNK):
            yield block


async def _stream_file(fh: IO[bytes]) -> AsyncIterator[bytes]:
    blocks = _file_chunks(fh)
    try:
        while block := await asyncio.to_thread(next, blocks, b""):
            yield block
    finally:
        blocks.close()
        fh.close()


async def xlsx_chunks(export: CIExport, f: CIFilterInput | None, *, lang: Lang = "zh-CN",
                      progress: Progress | None = None) -> AsyncIterator[bytes]:
    """The register as an XLSX workbook, one sheet. openpyxl's write-only mode keeps
    rows in a temporary file as they come, so memory holds one page; the workbook is a
    zip whose directory comes last, so its bytes follow once every row is written."""
    selection = export.selection(f)
    sheet = export.sheet(selection)
    wb = _new_workbook()
    ws = wb.create_sheet(_sheet_title("配置项" if lang == "zh-CN" else "CIs", set()))
    ws.append(sheet.headers(lang))
    async for page in export.pages(selection):
        rows = await export.rows(page, sheet, lang)
        await asyncio.to_thread(_append, ws, rows)
        if progress:
            progress(len(page))
    fh = await asyncio.to_thread(_spool, wb)
    async for block in _stream_file(fh):
        yield block


def _append(ws: Any, rows: Sequence[Sequence[Any]]) -> None:
    for row in rows:
        ws.append([xlsx_value(v) for v in row])


async def config_list_chunks(export: CIExport, *, lang: Lang = "zh-CN",
                             progress: Progress | None = None) -> AsyncIterator[bytes]:
    """The monthly configuration list (配置清单): an XLSX workbook with one sheet per
    class that has CIs, each CI with the register's columns and its relationships."""
    registry = export.registry
    wb = _new_workbook()
    used: set[str] = set()
    rel_headers = list(RELATIONSHIPS[lang])
    for name in sorted(n for n, i in registry.classes.items() if not i.abstract):
        selection = CISelection(classes=(name,))
        if not await export.count(selection):
            continue
        sheet = export.sheet(selection)
        ws = wb.create_sheet(_sheet_title(export.class_text(name, lang), used))
        ws.append([*sheet.headers(lang), *rel_headers])
        async for page in export.pages(selection):
            rows = await export.rows(page, sheet, lang)
            rels = await export.relationships(page, lang)
            full = [[*row, *rels[ci.id]] for row, ci in zip(rows, page, strict=True)]
            await asyncio.to_thread(_append, ws, full)
            if progress:
                progress(len(page))
    if not used:
        ws = wb.create_sheet(_sheet_title("配置项" if lang == "zh-CN" else "CIs", used))
        ws.append(sheet_headers(lang))
    fh = await asyncio.to_thread(_spool, wb)
    async for block in _stream_file(fh):
        yield block


def sheet_headers(lang: Lang) -> list[str]:
    """The register's built-in headers (an empty export still says its columns)."""
    return [c.header(lang) for c in COLUMNS]


def chunks(export: CIExport, f: CIFilterInput | None, fmt: Format, *, lang: Lang = "zh-CN",
           encoding: Encoding = "utf-8-sig", progress: Progress | None = None
           ) -> AsyncIterator[bytes]:
    """The register in ``fmt`` as an async iterator of bytes (an HTTP streaming body)."""
    if fmt == "xlsx":
        return xlsx_chunks(export, f, lang=lang, progress=progress)
    return csv_chunks(export, f, lang=lang, encoding=encoding, progress=progress)


MEDIA_TYPES: dict[Format, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _temp_beside(path: str | os.PathLike[str]) -> tuple[int, str, str]:
    target = os.fspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".export-",
                               dir=os.path.dirname(os.path.abspath(target)))
    return fd, tmp, target


async def write_file(stream: AsyncIterator[bytes], path: str | os.PathLike[str]) -> int:
    """Write a stream to ``path`` through a temporary file beside it, so a failed export
    leaves no half-written file; returns the bytes written."""
    fd, tmp, target = _temp_beside(path)
    written = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            async for block in stream:
                fh.write(block)
                written += len(block)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    return written


