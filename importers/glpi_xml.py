"""Importer ``glpi``: GLPI agent / FusionInventory XML inventory (one computer per file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final

from importers.agent import parse_agent
from importers.errors import RecordError
from importers.models import Kind, Observation
from importers.options import ParseOptions

SOURCE: Final = "glpi"
KIND: Final[Kind] = "inventory"
DESCRIPTION: Final = "GLPI agent / FusionInventory XML inventory (one computer per file)"


def parse(
    path: Path, *, options: ParseOptions | None = None
) -> Iterator[Observation | RecordError]:
    """Parse one inventory file lazily into one observation (or its RecordErrors)."""
    return parse_agent(SOURCE, path, options or ParseOptions())
