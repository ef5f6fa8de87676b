"""``cmdb sdl`` and ``cmdb check-schema``: the GraphQL schema and the model definitions."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cmdb.cli.base import err
from cmdb.errors import CmdbError


@click.command()
@click.option("--check", is_flag=True, help="Exit 1 if schema/cmdb.graphql is out of date.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write here instead of schema/cmdb.graphql.")
def sdl(check: bool, output: Path | None) -> None:
    """Export the GraphQL schema (SDL) to schema/cmdb.graphql."""
    from cmdb.api.graphql.schema import SDL_PATH
    from cmdb.api.graphql.schema import sdl as render

    target = output or SDL_PATH
    text = render()
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            err.print(f"{target} is stale; run `cmdb sdl`")
            sys.exit(1)
        click.echo(f"{target} is up to date")
        return
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


@click.command("check-schema")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="A folder with classes.yaml, relationships.yaml, lifecycle.yaml.")
@click.option("--vendors-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, envvar="CMDB_VENDORS_FILE",
              help="Your own manufacturer aliases (as CMDB_VENDORS_FILE names them).")
def check_schema(directory: Path | None, vendors_file: Path | None) -> None:
    """Validate the model definitions in schema/ (or --dir) and summarise them."""
    from cmdb.model.registry import load_registry

    try:
        registry = load_registry(directory, vendors_file)
    except CmdbError as exc:
        err.print(f"[red]error[/red] {exc.message}")
        sys.exit(1)
    click.echo(f"{len(registry.classes)} classes, {len(registry.relationship_types)} "
               f"relationship types, {len(registry.states)} lifecycle states, "
               f"{len(registry.vendors.vendors)} vendors: OK")
