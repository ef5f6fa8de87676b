"""Error types of the importers: a whole-file failure raised, a per-record problem yielded."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

ImportErrorCode = Literal[
    "IMPORT_BAD_FILE",
    "IMPORT_BAD_ENCODING",
    "IMPORT_NUL_BYTE",
    "IMPORT_UNKNOWN_HEADER",
    "IMPORT_BAD_HEADER",
    "IMPORT_BAD_MAPPING",
    "IMPORT_FORBIDDEN_XML",
    "IMPORT_TOO_LARGE",
    "IMPORT_TOO_MANY_ERRORS",
    "IMPORT_UNKNOWN_IMPORTER",
]
"""Stable codes of :class:`ImportFileError`; the application maps them into its error tree."""


def _where(file: str, line: int | None, record: int | None, column: str | None) -> str:
    """Render a human location like ``inv.csv line 7 column 'MAC地址'``."""
    parts = [file]
    if line is not None:
        parts.append(f"line {line}")
    if record is not None:
        parts.append(f"record {record}")
    if column is not None:
        parts.append(f"column {column!r}")
    return " ".join(parts)


class ImportFileError(Exception):
    """The whole file cannot be imported (bad encoding, junk, forbidden XML, bounds, headers).

    Raised, never yielded.  Observations yielded before it was raised belong to a
    failed import: callers must treat the import as a whole as failed.
    """

    def __init__(
        self,
        code: ImportErrorCode,
        message: str,
        *,
        file: str,
        line: int | None = None,
        column: str | None = None,
        field: str | None = None,
    ) -> None:
        self.code: ImportErrorCode = code
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        super().__init__(f"{code}: {_where(file, line, None, column)}: {message}")


class RecordError(BaseModel):
    """One bad field of one record, yielded in place of that record's observation.

    A record with several bad fields yields one ``RecordError`` per field and no
    observation.  ``field`` is the observation field (``mac_addresses``) or, for
    problems not tied to one field, ``None``; ``column`` is the header or XML path
    as written in the file.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    file: str
    line: int | None = None
    record: int | None = None
    column: str | None = None
    field: str | None = None
    code: str = "INVALID_VALUE"
    message: str
    value: str | None = None

    def __str__(self) -> str:
        """Say what is wrong and where, for a log line or a UI list."""
        what = f" field {self.field}" if self.field else ""
        shown = f" (value {self.value!r})" if self.value is not None else ""
        where = _where(self.file, self.line, self.record, self.column)
        return f"{where}{what}: {self.message}{shown}"


def preview(value: object, limit: int = 80) -> str:
    """Return a short printable preview of a bad value for error messages."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"
