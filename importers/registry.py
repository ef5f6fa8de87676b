"""Registry of importers by name: ``get_importer("nmap")``, ``importer_names()``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from importers import (
    csv_sheet,
    glpi_xml,
    lshw_json,
    nmap_xml,
    ocs_xml,
    scans_csv,
    xlsx_sheet,
)
from importers.errors import ImportFileError, RecordError
from importers.models import Kind, Observation
from importers.options import ParseOptions

ParseFn = Callable[..., Iterator[Observation | RecordError]]
log = logging.getLogger("cmdb.importers")


@dataclass(frozen=True)
class Importer:
    """One registered importer: its name, kind, description and parse function.

    ``parse(path, options=ParseOptions(...))`` returns a lazy iterator of
    observations and record errors; whole-file problems raise ``ImportFileError``
    while iterating.
    """

    name: str
    kind: Kind
    description: str
    parse: ParseFn

    def run(
        self, path: Path, *, options: ParseOptions | None = None
    ) -> Iterator[Observation | RecordError]:
        """Parse ``path`` with this importer (typed convenience around ``parse``).

        Whatever else a library raises on a malformed file (openpyxl on a corrupt sheet
        part, a decoder on an unexpected value) becomes ``IMPORT_BAD_FILE`` naming it:
        a bad file is the sender's problem, never an internal error."""
        label = (options or ParseOptions()).label_for(path)
        return _guarded(self.parse(path, options=options), label)


def _guarded(records: Iterator[Observation | RecordError],
             label: str) -> Iterator[Observation | RecordError]:
    try:
        yield from records
    except ImportFileError:
        raise
    except (MemoryError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception as exc:  # the safety net described in Importer.run
        log.warning("unexpected error reading %s", label, exc_info=exc)
        raise ImportFileError("IMPORT_BAD_FILE", f"cannot read the file: "
                              f"{type(exc).__name__}: {str(exc)[:200]}", file=label) from exc


def _from_module(module: ModuleType) -> Importer:
    """Build the registry entry from a source module's SOURCE/KIND/DESCRIPTION/parse."""
    return Importer(
        name=module.SOURCE, kind=module.KIND, description=module.DESCRIPTION, parse=module.parse
    )


_REGISTRY: dict[str, Importer] = {
    imp.name: imp
    for imp in map(
        _from_module, (csv_sheet, xlsx_sheet, nmap_xml, glpi_xml, ocs_xml, lshw_json, scans_csv)
    )
}


def importer_names() -> list[str]:
    """Return the registered importer names, sorted."""
    return sorted(_REGISTRY)


def get_importer(name: str) -> Importer:
    """Return the importer registered as ``name``; ``ImportFileError`` if there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ImportFileError(
            "IMPORT_UNKNOWN_IMPORTER",
            f"no importer named {name!r}; known: {', '.join(importer_names())}",
            file="",
        ) from None


def parse_file(
    name: str, path: Path, *, options: ParseOptions | None = None
) -> Iterator[Observation | RecordError]:
    """Parse ``path`` with the importer registered as ``name`` (lazy)."""
    return get_importer(name).run(path, options=options)
