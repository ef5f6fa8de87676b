"""The Neo4j test server really starts, answers, keeps its data across a restart, and stops."""

from __future__ import annotations

import os
import socket

import pytest

from tests.support.neo4j_server import (
    DEFAULT_USER,
    ENV_PASSWORD,
    ENV_URI,
    ENV_USER,
    Neo4jServer,
    external_neo4j_from_env,
    wipe,
)


def _port_open(port: int) -> bool:
    """True if something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _current_pid(server: Neo4jServer) -> int | None:
    """The server's pid, read afresh (a call, so type checkers do not carry over narrowing)."""
    return server.pid


def _pid_exists(pid: int) -> bool:
    """True if a process (or an unreaped zombie) has this pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.neo4j
def test_server_lifecycle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start, query, write, restart (data kept), wipe (schema kept), stop (pid and port gone)."""
    # The launcher itself is under test, so a server named by CMDB_TEST_NEO4J_URI is not used.
    server = Neo4jServer(use_env=False)
    try:
        server.start()
        assert server.port is not None
        assert server.uri == f"bolt://127.0.0.1:{server.port}"
        assert server.auth == (DEFAULT_USER, "cmdb-test-password")
        first_pid = server.pid
        assert first_pid is not None
        home = server.home
        assert home is not None
        assert (home / "logs" / "console.log").is_file()

        with server.driver() as driver:
            records, _, _ = driver.execute_query("RETURN 1 AS one")
            assert records[0]["one"] == 1
            driver.execute_query(
                "CREATE CONSTRAINT probe_key IF NOT EXISTS FOR (p:Probe) REQUIRE p.key IS UNIQUE"
            )
            driver.execute_query(
                "CREATE (:Probe {key: $key, name: $name})-[:NEXT]->(:Probe {key: 'b'})",
                key="a",
                name="Ünïcode ✓",
            )
            records, _, _ = driver.execute_query(
                "MATCH (p:Probe {key: 'a'})-[:NEXT]->(q) RETURN p.name AS name, q.key AS next"
            )
            assert [(r["name"], r["next"]) for r in records] == [("Ünïcode ✓", "b")]

        # CMDB_TEST_NEO4J_URI: a server object that starts nothing and stops nothing.
        monkeypatch.setenv(ENV_URI, server.uri)
        monkeypatch.setenv(ENV_USER, server.auth[0])
        monkeypatch.setenv(ENV_PASSWORD, server.auth[1])
        external = Neo4jServer()
        external.start()
        assert external.external
        assert external.pid is None
        assert (external.uri, external.auth) == (server.uri, server.auth)
        external.stop()
        with pytest.raises(RuntimeError, match="cannot restart"):
            external.restart()
        assert server.pid == first_pid

        port = server.port
        server.restart()
        assert server.port == port
        second_pid = server.pid
        assert second_pid is not None
        assert second_pid != first_pid
        assert not _pid_exists(first_pid)

        with server.driver() as driver:
            records, _, _ = driver.execute_query(
                "MATCH (p:Probe) RETURN p.key AS key, p.name AS name ORDER BY key"
            )
            assert [(r["key"], r["name"]) for r in records] == [("a", "Ünïcode ✓"), ("b", None)]

            wipe(server.uri, server.auth)
            records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n")
            assert records[0]["n"] == 0
            records, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name")
            assert "probe_key" in [r["name"] for r in records]

        server.stop()
        assert _current_pid(server) is None
        assert not _pid_exists(second_pid)
        assert not _port_open(port)
    finally:
        server.cleanup()
    assert not home.exists()


def test_env_override_parsing() -> None:
    """CMDB_TEST_NEO4J_URI, _USER and _PASSWORD name an external server; no URI means none."""
    assert external_neo4j_from_env({}) is None
    assert external_neo4j_from_env({ENV_URI: " "}) is None
    assert external_neo4j_from_env({ENV_URI: "bolt://db:7687", ENV_PASSWORD: "pw"}) == (
        "bolt://db:7687",
        (DEFAULT_USER, "pw"),
    )
    env = {ENV_URI: "neo4j://db:7687", ENV_USER: "alice", ENV_PASSWORD: "secret"}
    assert external_neo4j_from_env(env) == ("neo4j://db:7687", ("alice", "secret"))
    with pytest.raises(RuntimeError, match=ENV_PASSWORD):
        external_neo4j_from_env({ENV_URI: "bolt://db:7687"})
