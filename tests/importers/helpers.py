"""Helpers shared by the importer tests."""

from __future__ import annotations

from pathlib import Path

from cmdb.importers import Observation, ParseOptions, RecordError, get_importer

FIXTURES = Path(__file__).with_name("fixtures")
HOSTILE = FIXTURES / "hostile"


def run(
    name: str, path: Path, options: ParseOptions | None = None
) -> tuple[list[Observation], list[RecordError]]:
    """Parse ``path`` with importer ``name``; split observations from record errors."""
    observations: list[Observation] = []
    errors: list[RecordError] = []
    for record in get_importer(name).run(path, options=options):
        if isinstance(record, Observation):
            observations.append(record)
        else:
            errors.append(record)
    return observations, errors
