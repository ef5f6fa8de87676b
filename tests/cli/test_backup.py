"""``cmdb migrate`` from a terminal: SQLite -> Neo4j -> SQLite gives back the same CMDB."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cmdb.cli.main import main
from tests.support.neo4j_server import Neo4jServer, wipe

pytestmark = pytest.mark.neo4j


def records(dump: Path) -> str:
    return dump.read_text(encoding="utf-8").split("\n", 1)[1]  # the header names the source


def test_migrate_to_neo4j_and_back(tmp_path: Path, neo4j_server: Neo4jServer) -> None:
    wipe(neo4j_server.uri, neo4j_server.auth)
    env = {"CMDB_STORE_USER": neo4j_server.auth[0],
           "CMDB_STORE_PASSWORD": neo4j_server.auth[1]}
    runner = CliRunner(env=env)
    origin, back = tmp_path / "origin.sqlite3", tmp_path / "back.sqlite3"
    made = runner.invoke(main, ["demo", "--db", str(origin)])
    assert made.exit_code == 0, made.output

    there = runner.invoke(main, ["migrate", "--from", f"sqlite:///{origin}",
                                 "--to", neo4j_server.uri])
    assert there.exit_code == 0, there.output
    assert "migrated" in there.output
    again = runner.invoke(main, ["migrate", "--from", f"sqlite:///{origin}",
                                 "--to", neo4j_server.uri])
    assert again.exit_code == 1
    assert "not empty" in again.output
    home = runner.invoke(main, ["migrate", "--from", neo4j_server.uri,
                                "--to", f"sqlite:///{back}"])
    assert home.exit_code == 0, home.output

    for db, out in ((origin, "a.jsonl"), (back, "b.jsonl")):
        done = runner.invoke(main, ["backup", "--db", str(db), "-o", str(tmp_path / out)])
        assert done.exit_code == 0, done.output
    assert records(tmp_path / "a.jsonl") == records(tmp_path / "b.jsonl")
