"""Which commands may create a CMDB: a missing or mistyped store is an error everywhere
else, and nothing (no file, no folder) is made."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cmdb.cli.main import main

FIXTURES = Path(__file__).resolve().parents[1] / "importers" / "fixtures"

# What each store-opening command needs besides the store, to get as far as opening it.
# A command missing here fails test_every_store_command_is_listed.
ARGS: dict[str, list[str]] = {
    "labels": ["--tag", "ZC-00002", "-o", "{tmp}/labels.pdf"],
    "backup": ["-o", "{tmp}/dump.jsonl"],
    "impact": ["ZC-00002"],
    "token create": ["--name", "ops"],
    "token list": [],
    "token revoke": ["ops"],
    "user create": ["wang.fang", "--password-stdin"],
    "user list": [],
    "user disable": ["wang.fang"],
    "user password": ["wang.fang", "--password-stdin"],
    "user sign-out-everywhere": ["--all"],
    "import": ["csv", str(FIXTURES / "inventory-gbk.csv"), "--dry-run"],
    "audit create": ["2026 H2", "--place", "北京总部"],
    "audit open": ["2026 H2"],
    "audit scans": ["2026 H2", str(FIXTURES / "scans.csv")],
    "audit close": ["2026 H2"],
    "audit status": [],
    "audit report": ["2026 H2", "-o", "{tmp}/report.pdf"],
    "audit health": [],
    "export cis": ["-o", "{tmp}/register.csv"],
    "export config-list": ["-o", "{tmp}/config.xlsx"],
}
# These make a CMDB where there is none (serve is not run here: it would serve).
CREATORS = {"serve", "demo", "init", "restore"}


def store_commands() -> Iterator[tuple[str, click.Command]]:
    def walk(cmd: click.Command, path: list[str]) -> Iterator[tuple[str, click.Command]]:
        if isinstance(cmd, click.Group):
            for name, sub in sorted(cmd.commands.items()):
                yield from walk(sub, [*path, name])
        elif any(p.name == "db" for p in cmd.params):
            yield " ".join(path), cmd

    yield from walk(main, [])


def test_every_store_command_is_listed() -> None:
    names = {name for name, _ in store_commands()}
    assert names == set(ARGS) | CREATORS
    for name, cmd in store_commands():
        assert any(p.name == "create" for p in cmd.params), name


@pytest.mark.parametrize("command", sorted(ARGS))
def test_a_missing_store_is_not_created(tmp_path: Path, command: str) -> None:
    typo = tmp_path / "typo" / "cmdb.sqlit3"
    args = [a.replace("{tmp}", str(tmp_path)) for a in ARGS[command]]
    result = CliRunner().invoke(main, [*command.split(), *args, "--db", str(typo)],
                                input="a good password\n")
    assert result.exit_code == 1, result.output
    assert f"NO_CMDB: no CMDB at {typo}" in result.output.replace("\n", " ")
    assert "cmdb init" in result.output
    assert not typo.parent.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_default_store_in_the_current_folder_is_not_created(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CMDB_STORE_URL", raising=False)
    result = CliRunner().invoke(main, ["backup", "-o", "dump.jsonl"])
    assert result.exit_code == 1
    assert "no CMDB at cmdb.sqlite3" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_cmdb_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("not a database\n" * 100, encoding="utf-8")
    result = CliRunner().invoke(main, ["token", "list", "--db", str(other)])
    assert result.exit_code == 1
    assert "not a SQLite database" in result.output
    assert other.read_text(encoding="utf-8") == "not a database\n" * 100
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    result = CliRunner().invoke(main, ["user", "list", "--db", str(empty)])
    assert result.exit_code == 1
    assert "has no CMDB tables" in result.output
    assert empty.stat().st_size == 0


def test_create_init_demo_and_restore_make_a_cmdb(tmp_path: Path) -> None:
    runner = CliRunner()
    made = tmp_path / "new" / "a.sqlite3"
    r = runner.invoke(main, ["token", "create", "--name", "ops", "--db", str(made), "--create"])
    assert r.exit_code == 0, r.output
    assert runner.invoke(main, ["token", "list", "--db", str(made)]).exit_code == 0
    fresh = tmp_path / "b.sqlite3"
    r = runner.invoke(main, ["init", "--db", str(fresh)])
    assert r.exit_code == 0, r.output
    assert "created an empty CMDB" in r.output
    again = runner.invoke(main, ["init", "--db", str(fresh)])
    assert again.exit_code == 0
    assert "there is a CMDB at" in again.output
    demo = tmp_path / "demo.sqlite3"
    assert runner.invoke(main, ["demo", "--db", str(demo)]).exit_code == 0
    dump = tmp_path / "dump.jsonl"
    assert runner.invoke(main, ["backup", "-o", str(dump), "--db", str(demo)]).exit_code == 0
    restored = tmp_path / "restored" / "c.sqlite3"
    r = runner.invoke(main, ["restore", str(dump), "--db", str(restored)])
    assert r.exit_code == 0, r.output
    for path in (made, fresh, demo, restored):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_migrate_needs_an_existing_source(tmp_path: Path) -> None:
    source = tmp_path / "typo.sqlite3"
    target = tmp_path / "target.sqlite3"
    r = CliRunner().invoke(main, ["migrate", "--from", f"sqlite:///{source}",
                                  "--to", f"sqlite:///{target}"])
    assert r.exit_code == 1
    assert f"no CMDB at {source}" in r.output
    assert not source.exists()
    assert not target.exists()
