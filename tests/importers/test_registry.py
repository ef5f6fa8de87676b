"""Registry and module shape: every source module looks the same and imports nothing heavy."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

from importers import ImportFileError, get_importer, importer_names

MODULES = {
    "csv": "csv_sheet",
    "xlsx": "xlsx_sheet",
    "nmap": "nmap_xml",
    "glpi": "glpi_xml",
    "ocs": "ocs_xml",
    "lshw": "lshw_json",
    "scans": "scans_csv",
}
KINDS = {"nmap": "discovery", "scans": "inspection"}


def test_names() -> None:
    assert importer_names() == sorted(MODULES)


@pytest.mark.parametrize(("name", "module_name"), sorted(MODULES.items()))
def test_module_shape(name: str, module_name: str) -> None:
    module = importlib.import_module(f"importers.{module_name}")
    assert name == module.SOURCE
    assert KINDS.get(name, "inventory") == module.KIND
    assert module.DESCRIPTION
    params = inspect.signature(module.parse).parameters
    assert list(params) == ["path", "options"]
    assert params["options"].kind is inspect.Parameter.KEYWORD_ONLY
    entry = get_importer(name)
    assert (entry.name, entry.kind, entry.parse) == (name, module.KIND, module.parse)


def test_unknown_importer() -> None:
    with pytest.raises(ImportFileError) as info:
        get_importer("snmp")
    assert info.value.code == "IMPORT_UNKNOWN_IMPORTER"


def test_no_web_framework_database_or_other_cmdb_imports() -> None:
    code = "import sys, importers;print('\\n'.join(m for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    loaded = set(out.stdout.split())
    forbidden = {"starlette", "strawberry", "uvicorn", "neo4j", "sqlite3", "httpx"}
    assert not forbidden & {m.split(".")[0] for m in loaded}
    other_cmdb = {m for m in loaded if m.startswith("cmdb.") and not m.startswith("importers")}
    assert other_cmdb == set()
