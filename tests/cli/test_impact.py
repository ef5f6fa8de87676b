"""``cmdb impact`` from a terminal, on the demo CMDB."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cmdb.cli.main import main


def test_impact_tree_shows_every_impacted_ci_under_its_cause(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.sqlite3")
    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--db", db]).exit_code == 0
    as_json = runner.invoke(main, ["impact", "ZC-00002", "--json", "--db", db])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    impacted = report["impacted"]
    assert len(impacted) > 20
    ids = {c["id"] for c in report["changed"]} | {i["ci"]["id"] for i in impacted}
    for item in impacted:
        # every step of an explanation is a CI the report lists (or the changed one)
        assert {s["from"] for s in item["path"]} | {s["to"] for s in item["path"]} <= ids
        assert len(item["path"]) == item["depth"]
    tree = runner.invoke(main, ["impact", "ZC-00002", "--db", db])
    assert tree.exit_code == 0, tree.output
    lines = [line for line in tree.output.splitlines() if "└─" in line]
    assert len(lines) == len(impacted)  # each hangs under the CI that takes it down
    assert f"{len(impacted)} CIs impacted" in tree.output
