"""Importers: turn inventory sheets, scans and discovery/agent outputs into observations.

Each source module (``csv_sheet``, ``xlsx_sheet``, ``nmap_xml``, ``glpi_xml``,
``ocs_xml``, ``lshw_json``, ``scans_csv``) exposes ``SOURCE``, ``KIND``,
``DESCRIPTION`` and ``parse(path, *, options) -> Iterator[Observation | RecordError]``
and is registered by name (see :func:`get_importer`).  Nothing here imports a web
framework, a database driver or the rest of ``cmdb``.
"""

from importers.columns import ColumnMapping
from importers.errors import ImportErrorCode, ImportFileError, RecordError
from importers.models import (
    Flag,
    Kind,
    Locator,
    NetworkInterface,
    Observation,
    Port,
    Software,
)
from importers.normalise import neutralise_cell, normalise_mac
from importers.options import ParseOptions
from importers.placeholders import Placeholders, default_placeholders
from importers.registry import Importer, get_importer, importer_names, parse_file

__all__ = [
    "ColumnMapping",
    "Flag",
    "ImportErrorCode",
    "ImportFileError",
    "Importer",
    "Kind",
    "Locator",
    "NetworkInterface",
    "Observation",
    "ParseOptions",
    "Placeholders",
    "Port",
    "RecordError",
    "Software",
    "default_placeholders",
    "get_importer",
    "importer_names",
    "neutralise_cell",
    "normalise_mac",
    "parse_file",
]
