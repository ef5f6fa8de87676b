"""Streaming CSV reading with decoding, delimiter detection and size bounds."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from importers.decoding import bounded_lines, detect_encoding
from importers.errors import ImportErrorCode, ImportFileError
from importers.options import ParseOptions

_SEP_HINT = re.compile(r"^sep=(.)\r?\n?$")
_DELIMITERS = (",", ";", "\t", "|")


def _delimiter(first_line: str) -> str:
    """Guess the delimiter from the header line: the most frequent of , ; TAB |."""
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(path: Path, options: ParseOptions) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(first_line, cells)`` for every CSV record, header included, lazily.

    Raises :class:`ImportFileError` for undecodable text, NUL bytes, over-long lines
    or fields, and malformed quoting, naming the line.
    """
    label = options.label_for(path)
    encoding = options.encoding or detect_encoding(path, label)
    try:
        fh = path.open(encoding=encoding, errors="strict", newline="")
    except LookupError as exc:
        raise ImportFileError(
            "IMPORT_BAD_ENCODING", f"unknown encoding {encoding!r}", file=label
        ) from exc
    with fh:
        lines = bounded_lines(fh, options.max_line_chars, label)
        first = next(lines, None)
        if first is None:
            raise ImportFileError("IMPORT_BAD_HEADER", "the file is empty", file=label)
        offset = 0
        hint = _SEP_HINT.match(first)
        if hint:
            delimiter = hint.group(1)
            offset = 1
            first = next(lines, None)
            if first is None:
                raise ImportFileError("IMPORT_BAD_HEADER", "no header row", file=label)
        else:
            delimiter = options.delimiter or _delimiter(first)
        reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=True)
        previous = 0
        try:
            for cells in reader:
                yield previous + 1 + offset, cells
                previous = reader.line_num
        except csv.Error as exc:
            code: ImportErrorCode = (
                "IMPORT_TOO_LARGE" if "field limit" in str(exc) else "IMPORT_BAD_FILE"
            )
            raise ImportFileError(
                code, f"malformed CSV: {exc}", file=label, line=reader.line_num + offset
            ) from exc
