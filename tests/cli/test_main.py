"""The ``cmdb`` group gathers every domain's commands, however it is started."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from cmdb.cli.main import main


def listed(help_text: str) -> list[str]:
    """The command names of a ``--help`` page."""
    lines = help_text.split("Commands:\n", 1)[1].splitlines()
    return [line.split()[0] for line in lines if line.startswith("  ") and line.split()]


@pytest.mark.parametrize("module", ["cmdb.cli", "cmdb.cli.main"])
def test_python_m_runs_the_whole_group(module: str) -> None:
    """``python -m cmdb.cli.main`` used to know only the commands written in main itself
    (the others registered themselves on a second copy of the module)."""
    expected = main.list_commands(click.Context(main))
    assert {"import", "impact", "audit", "token", "user", "labels", "serve"} <= set(expected)
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                         text=True, check=True, timeout=120)
    assert listed(out.stdout) == expected
    token = subprocess.run([sys.executable, "-m", module, "token", "--help"],
                           capture_output=True, text=True, timeout=120)
    assert token.returncode == 0, token.stderr
