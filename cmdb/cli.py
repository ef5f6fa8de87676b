"""The ``cmdb`` command: a thin wrapper over the services.

Every command takes ``--store-url`` (or ``--db`` for a SQLite file) and reads
``CMDB_*`` environment variables; ``cmdb COMMAND --help`` explains each one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cmdb.errors import CmdbError
from cmdb.model.queries import CISelection
from cmdb.services import Cmdb
from cmdb.settings import Settings

T = TypeVar("T")
err = Console(stderr=True)


def progress_bar(description: str, total: int | None) -> Progress:
    """A progress bar on a terminal; silent when output is not a terminal."""
    return Progress(
        TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, disable=not err.is_terminal, transient=False,
    )


def settings_from(store_url: str | None, db: Path | None, **extra: Any) -> Settings:
    values: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if db is not None:
        values["store_url"] = f"sqlite:///{db}"
    elif store_url is not None:
        values["store_url"] = store_url
    return Settings(**values)


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; a CmdbError becomes a one-line message and exit status 1."""
    try:
        return asyncio.run(_await(work))
    except CmdbError as exc:
        err.print(f"[red]error[/red] {exc.code}: {exc.message}")
        sys.exit(1)


async def _await(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


store_options = [
    click.option("--store-url", envvar="CMDB_STORE_URL", default=None,
                 help="sqlite:///path/file.sqlite3 or neo4j://host:7687 "
                      "(default: sqlite:///cmdb.sqlite3 in the current folder)."),
    click.option("--db", type=click.Path(path_type=Path), default=None,
                 help="Shortcut for --store-url sqlite:///DB."),
]


def with_store(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(store_options):
        f = option(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="graph-cmdb")
def main() -> None:
    """A graph-backed CMDB: configuration items, relationships, history, impact, labels."""


async def _is_empty(cmdb: Cmdb) -> bool:
    return await cmdb.store.count_cis(CISelection()) == 0


async def _load_demo(cmdb: Cmdb) -> int:
    from cmdb.demo import load_demo

    with progress_bar("Loading demo data", None) as bar:
        task = bar.add_task("demo", total=None)
        return await load_demo(cmdb, lambda n: bar.advance(task, n))


@main.command()
@with_store
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--demo", is_flag=True, help="Load the demo organisation first if the CMDB is empty.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
def serve(store_url: str | None, db: Path | None, host: str, port: int, demo: bool,
          log_level: str) -> None:
    """Serve GraphQL (and GraphiQL in a browser) at http://HOST:PORT/graphql."""
    import uvicorn

    from cmdb.api.app import create_app

    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        err.print("[red]error[/red] this build has no sign-in yet, so it serves on loopback "
                  "only (127.0.0.1, ::1, localhost). Put it behind an authenticating proxy "
                  "and keep --host 127.0.0.1.")
        sys.exit(2)
    settings = settings_from(store_url, db)
    if demo:
        async def seed() -> None:
            cmdb = Cmdb.build(settings)
            await cmdb.open()
            try:
                if await _is_empty(cmdb):
                    count = await _load_demo(cmdb)
                    err.print(f"Loaded the demo organisation: {count} CIs.")
            finally:
                await cmdb.close()

        run(seed)
    err.print("[yellow]No authentication: anyone on this machine can read and change the CMDB."
              "[/yellow]")
    err.print(f"GraphiQL: http://{host}:{port}/graphql   store: {settings.store_url}")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level)


@main.command()
@with_store
@click.option("--force", is_flag=True, help="Load even if the CMDB already holds CIs.")
def demo(store_url: str | None, db: Path | None, force: bool) -> None:
    """Load a demo organisation (two sites, ~200 CIs, Chinese and English names)."""
    settings = settings_from(store_url, db)

    async def work() -> None:
        cmdb = Cmdb.build(settings)
        await cmdb.open()
        try:
            if not force and not await _is_empty(cmdb):
                err.print("The CMDB is not empty; use --force to add the demo data anyway.")
                sys.exit(1)
            count = await _load_demo(cmdb)
            click.echo(f"Loaded {count} CIs into {settings.store_url}")
        finally:
            await cmdb.close()

    run(work)


@main.command()
@click.option("--check", is_flag=True, help="Exit 1 if schema/cmdb.graphql is out of date.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write here instead of schema/cmdb.graphql.")
def sdl(check: bool, output: Path | None) -> None:
    """Export the GraphQL schema (SDL) to schema/cmdb.graphql."""
    from cmdb.api.schema import SDL_PATH
    from cmdb.api.schema import sdl as render

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


@main.command("check-schema")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="A folder with classes.yaml, relationships.yaml, lifecycle.yaml.")
def check_schema(directory: Path | None) -> None:
    """Validate the model definitions in schema/ (or --dir) and summarise them."""
    from cmdb.model.registry import load_registry

    try:
        registry = load_registry(directory)
    except CmdbError as exc:
        err.print(f"[red]error[/red] {exc.message}")
        sys.exit(1)
    click.echo(f"{len(registry.classes)} classes, {len(registry.relationship_types)} "
               f"relationship types, {len(registry.states)} lifecycle states: OK")


if __name__ == "__main__":
    main()
