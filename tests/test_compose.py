"""docker-compose.yml and the Dockerfile hold what production needs (no Docker engine in CI,
so the file is parsed and checked rather than run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return data


def test_neo4j_service_is_5_26_community_with_volume_and_healthcheck() -> None:
    neo4j = compose()["services"]["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert any(v.endswith(":/data") for v in neo4j["volumes"])
    assert "neo4j-data" in compose()["volumes"]
    check = neo4j["healthcheck"]
    assert "cypher-shell" in " ".join(check["test"])
    assert check["retries"] >= 3
    assert neo4j["environment"]["NEO4J_AUTH"].startswith("neo4j/")


def test_app_is_built_here_configured_for_neo4j_and_waits_for_it() -> None:
    app = compose()["services"]["cmdb"]
    assert app["build"] == "."
    env = app["environment"]
    assert env["CMDB_STORE_URL"].startswith("neo4j://neo4j:")
    assert env["CMDB_STORE_USER"] == "neo4j"
    assert "NEO4J_PASSWORD" in env["CMDB_STORE_PASSWORD"]
    assert app["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert any(str(p).endswith("8000:8000") for p in app["ports"])


def test_dockerfile_installs_the_package_and_serves() -> None:
    text = (ROOT / "Dockerfile").read_text("utf-8")
    assert text.startswith("# ")
    assert "FROM python:3.11" in text
    for folder in ("cmdb", "schema", "labels", "importers"):
        assert f"COPY {folder} ./{folder}" in text
    assert 'CMD ["cmdb", "serve", "--host", "0.0.0.0"' in text
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
