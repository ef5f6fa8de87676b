"""``cmdb token`` and ``cmdb user`` from a terminal, and ``cmdb serve``'s demo-mode guard."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cmdb.cli import main


def test_token_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    runner = CliRunner()
    made = runner.invoke(main, ["token", "create", "--name", "ops", "--role", "admin",
                                "--db", db, "--create"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("cmdb_")
    listed = runner.invoke(main, ["token", "list", "--db", db])
    assert "ops" in listed.output
    assert token[:9] in listed.output
    assert token not in listed.output
    assert runner.invoke(main, ["token", "revoke", "ops", "--db", db]).exit_code == 0
    assert "revoked" in runner.invoke(main, ["token", "list", "--all", "--db", db]).output
    gone = runner.invoke(main, ["token", "revoke", "ops", "--db", db])
    assert gone.exit_code == 1
    assert "NOT_FOUND" in gone.output


def test_user_create_list_disable(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    runner = CliRunner()
    made = runner.invoke(main, ["user", "create", "wang.fang", "--role", "auditor",
                                "--password-stdin", "--db", db, "--create"],
                         input="a good password\n")
    assert made.exit_code == 0, made.output
    prompted = runner.invoke(main, ["user", "create", "li.lei", "--db", db],
                             input="another password\nanother password\n")
    assert prompted.exit_code == 0, prompted.output
    listed = runner.invoke(main, ["user", "list", "--db", db]).output
    assert "wang.fang" in listed
    assert "auditor" in listed
    assert runner.invoke(main, ["user", "disable", "wang.fang", "--db", db]).exit_code == 0
    assert "disabled" in runner.invoke(main, ["user", "list", "--db", db]).output


def test_serve_refuses_demo_mode_off_loopback(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--no-auth", "--host", "0.0.0.0",
                                       "--db", str(tmp_path / "x.sqlite3")])
    assert result.exit_code == 2
    assert "loopback only" in result.output
