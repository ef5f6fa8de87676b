"""Everything a user can run or set is documented: a command or setting missing from the
README fails here (the datasette habit)."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from cmdb.cli.main import main
from cmdb.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "cmdb") -> list[str]:
    out = []
    for name, command in group.commands.items():
        out.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            out += commands(command, f"{prefix} {name}")
    return out


def test_every_command_is_in_the_readme_and_has_help() -> None:
    names = commands(main)
    assert len(names) >= 8
    for name in names:
        assert f"`{name}" in README, f"{name} is not documented in README.md"
    runner = CliRunner()
    for name in names:
        result = runner.invoke(main, [*name.split()[1:], "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_every_setting_is_in_the_readme() -> None:
    for field in Settings.model_fields:
        env = f"CMDB_{field.upper()}"
        assert env in README, f"{env} is not documented in README.md"
