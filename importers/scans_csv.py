"""Importer ``scans``: inspection/audit scan CSV (asset tag, location, auditor, time, condition)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from importers.columns import SCAN_TARGETS
from importers.csv_sheet import parse_sheet_csv
from importers.errors import RecordError
from importers.models import Kind, Observation
from importers.options import ParseOptions
from importers.tabular import SheetSpec

SOURCE: Final = "scans"
KIND: Final[Kind] = "inspection"
DESCRIPTION: Final = "Inspection scans CSV: asset tag, location, auditor, time, condition, note"
SPEC = SheetSpec(SOURCE, KIND, SCAN_TARGETS, require_asset_tag=True)


def parse(
    path: Path, *, options: ParseOptions | None = None
) -> Iterator[Observation | RecordError]:
    """Parse an inspection scan CSV lazily: one observation (or RecordErrors) per scan."""
    return parse_sheet_csv(SPEC, path, options or ParseOptions())
