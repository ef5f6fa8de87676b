"""The core (the model and the services) imports no database driver and no web or
GraphQL framework: those belong to the store adapters and the API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "cmdb"
FORBIDDEN = {"sqlite3", "neo4j", "starlette", "strawberry", "uvicorn", "httpx"}
CORE = sorted([*(ROOT / "model").rglob("*.py"), *(ROOT / "services").rglob("*.py")])


def imported(path: Path) -> set[str]:
    """Top-level package names a module imports, wherever in the module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_the_core_has_modules() -> None:
    assert len(CORE) > 20


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_core_module_imports_no_driver_or_framework(path: Path) -> None:
    assert imported(path) & FORBIDDEN == set()
