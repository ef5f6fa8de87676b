"""Text decoding for CSV files: a strict encoding cascade, NUL/junk checks, bounded lines."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from importers.errors import ImportFileError

CHUNK = 256 * 1024
CASCADE = ("utf-8", "gb18030")
"""Tried in order, each strictly, after BOM detection; GBK is a subset of GB18030."""

_SUSPICIOUS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ue000-\uf8ff]")
"""Characters no spreadsheet text should hold; a decode that yields them is the wrong guess."""


def _nul_lines(path: Path, limit: int = 5) -> list[int]:
    """Return the 1-based line numbers of the first NUL bytes in the file."""
    found: list[int] = []
    lines_before = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            start = 0
            while (pos := chunk.find(b"\x00", start)) != -1:
                found.append(lines_before + chunk.count(b"\n", 0, pos) + 1)
                if len(found) >= limit:
                    return sorted(set(found))
                start = pos + 1
            lines_before += chunk.count(b"\n")
    return sorted(set(found))


def _decodes_cleanly(path: Path, encoding: str, skip: int) -> tuple[bool, int]:
    """Decode the whole file strictly in chunks; return (ok, 1-based line of the first problem)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    with path.open("rb") as fh:
        fh.seek(skip)
        while True:
            chunk = fh.read(CHUNK)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return False, line + chunk.count(b"\n", 0, max(exc.start, 0))
            bad = _SUSPICIOUS.search(text)
            if bad:
                return False, line + text.count("\n", 0, bad.start())
            line += text.count("\n")
            if not chunk:
                return True, line


def detect_encoding(path: Path, label: str) -> str:
    """Choose the file's encoding by BOM, then by a strict UTF-8 / GB18030 cascade.

    Raises :class:`ImportFileError` (``IMPORT_NUL_BYTE`` with line numbers, or
    ``IMPORT_BAD_ENCODING`` naming the first bad line) when no candidate fits.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    nuls = _nul_lines(path)
    if nuls:
        raise ImportFileError(
            "IMPORT_NUL_BYTE",
            "NUL byte(s) at line(s) " + ", ".join(map(str, nuls)) + "; binary or corrupt file?",
            file=label,
            line=nuls[0],
        )
    skip = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    first_bad: int | None = None
    for encoding in CASCADE:
        ok, bad_line = _decodes_cleanly(path, encoding, skip)
        if ok:
            return "utf-8-sig" if skip else encoding
        first_bad = bad_line if first_bad is None else first_bad
        if skip:
            break
    raise ImportFileError(
        "IMPORT_BAD_ENCODING",
        "not UTF-8 or GB18030/GBK text (or binary data); "
        "re-save the sheet as CSV UTF-8 or pass the encoding option",
        file=label,
        line=first_bad,
    )


def bounded_lines(fh: TextIO, max_chars: int, label: str) -> Iterator[str]:
    """Yield physical lines (newline kept), refusing over-long lines, NULs and bad bytes."""
    number = 0
    while True:
        try:
            line = fh.readline(max_chars + 1)
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                "IMPORT_BAD_ENCODING",
                f"cannot decode as {fh.encoding}: {exc.reason}",
                file=label,
                line=number + 1,
            ) from exc
        if not line:
            return
        number += 1
        if len(line) > max_chars:
            raise ImportFileError(
                "IMPORT_TOO_LARGE",
                f"line is longer than {max_chars} characters (field size bound)",
                file=label,
                line=number,
            )
        if "\x00" in line:
            raise ImportFileError("IMPORT_NUL_BYTE", "NUL byte in line", file=label, line=number)
        yield line
