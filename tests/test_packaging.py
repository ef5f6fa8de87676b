"""The wheel carries everything the CMDB runs with, without symlinks: every module of
``cmdb``, ``importers`` and ``labels``, the schema (mapped to ``cmdb/schema`` by
pyproject's package-dir), the templates, GraphiQL's files and the label templates; and
an unpacked wheel runs from its own files."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
                    "-w", str(out)], check=True, capture_output=True, timeout=600)
    (found,) = out.glob("graph_cmdb-*.whl")
    return found


def shipped(root: str, pattern: str, under: str | None = None) -> set[str]:
    base = ROOT / root
    return {f"{under or root}/{p.relative_to(base).as_posix()}" for p in base.rglob(pattern)
            if "__pycache__" not in p.parts and "node_modules" not in p.parts}


def test_the_wheel_holds_every_module_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = (shipped("cmdb", "*.py") | shipped("importers", "*.py")
                | shipped("labels", "*.py") | shipped("importers", "*.yaml")
                | shipped("labels/templates", "*.yaml")
                | shipped("schema", "*.yaml", "cmdb/schema")
                | shipped("schema", "*.graphql", "cmdb/schema")
                | shipped("cmdb/api/templates", "*.html") | shipped("cmdb/api/static", "*"))
    expected = {e for e in expected if not e.endswith("/")} - {
        e for e in expected if (ROOT / e).is_dir()}
    assert expected - names == set()
    assert not any(n.startswith("schema/") for n in names), "the schema goes in cmdb/schema"
    assert not any(Path(ROOT, p).is_symlink() for p in ("cmdb/importers", "cmdb/labels",
                                                         "cmdb/schema"))


def test_an_unpacked_wheel_runs_from_its_own_files(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = ("import cmdb, importers, labels\n"
            "from cmdb.model.registry import DEFAULT_SCHEMA_DIR, load_registry\n"
            "from cmdb.api.web.html import TEMPLATES\n"
            "from cmdb.api.graphql.schema import SDL_PATH\n"
            "load_registry()\n"
            "print(cmdb.__file__, importers.__file__, labels.__file__, DEFAULT_SCHEMA_DIR,"
            " TEMPLATES, SDL_PATH, SDL_PATH.is_file(), sep='\\n')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    lines = done.stdout.split()
    assert lines[-1] == "True"
    assert all(line.startswith(str(tmp_path)) for line in lines[:-1]), lines
