"""The house rules of docs/architecture.md, checked: the import contracts in
pyproject.toml (layers, a core without frameworks or drivers, the importers and the
label renderer as libraries, no import circles) hold, and they do catch a breach."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT), "--no-cache", str(cwd / "pyproject.toml")],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_the_import_contracts_hold() -> None:
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages and the contracts, copied where a test may break them."""
    where = tmp_path_factory.mktemp("house")
    for package in ("cmdb", "importers", "labels"):
        shutil.copytree(ROOT / package, where / package,
                        ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", where / "pyproject.toml")
    return where


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("cmdb/services/cis/service.py", "import cmdb.cli.base", "Layers"),
    ("cmdb/store/base.py", "from cmdb.services.cis import service", "Layers"),
    ("cmdb/services/changes/service.py", "import starlette.requests", "The core"),
    ("cmdb/services/audit/service.py", "import cmdb.store.sqlite.store", "The core"),
    ("importers/agent.py", "import cmdb.errors", "libraries"),
    ("cmdb/services/cis/places.py", "import cmdb.services.audit.service", "circles"),
], ids=["upward", "store-over-services", "framework", "driver", "library", "circle"])
def test_the_contracts_catch_a_breach(copy: Path, module: str, line: str,
                                      contract: str) -> None:
    path = copy / module
    before = path.read_text(encoding="utf-8")
    path.write_text(before + f"\n{line}  # noqa\n", encoding="utf-8")
    try:
        done = lint(copy)
    finally:
        path.write_text(before, encoding="utf-8")
    assert done.returncode != 0, done.stdout
    broken = done.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, done.stdout
