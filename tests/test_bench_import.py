"""The import benchmark at a tiny size on both stores (the smoke run that keeps it from
rotting), and its baseline doing the same comparison as the product."""

from __future__ import annotations

import pytest

from bench.bench_import import SMOKE, throughput
from tests.support.neo4j_server import Neo4jServer


@pytest.mark.parametrize("kind", ["sqlite", "neo4j"])
async def test_import_bench_runs_small(kind: str, request: pytest.FixtureRequest,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    neo4j = None
    if kind == "neo4j":
        server: Neo4jServer = request.getfixturevalue("neo4j_server")
        neo4j = (server.uri, server.auth)
    figures = await throughput(kind, SMOKE["cis"], SMOKE["rows"], neo4j)
    printed = capsys.readouterr().out
    for label in ("baseline", "register", "re-import", "dry run"):
        assert f"  {label}" in printed
    assert "x baseline" in printed
    rows = SMOKE["rows"]
    register = figures["runs"]["register"][1]
    assert sum(register.values()) == rows
    assert register.get("NEW", 0) > 0
    again = figures["runs"]["re-import"][1]
    assert again == figures["runs"]["dry run"][1]
    assert again.get("NEW", 0) == 0
    assert sum(again.values()) == rows
    # The floor compares what the import compares: the same verdicts.
    assert figures["baseline"][1] == again

