"""The ``cmdb`` command: a thin wrapper over the services.

Every command takes ``--store-url`` (or ``--db`` for a SQLite file) and reads
``CMDB_*`` environment variables; ``cmdb COMMAND --help`` explains each one.

Only ``cmdb init``, ``cmdb serve``, ``cmdb demo``, ``cmdb restore`` (into a new
store) and a command given ``--create`` make a CMDB where there is none; any other
command answers "no CMDB at <path>" and exits 1, so a mistyped ``--db`` never
creates an empty store (nor its folders).
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import pydantic
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cmdb.errors import CmdbError, NoCmdbError
from cmdb.files import open_private
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
    """The settings a command runs with: its options over ``CMDB_*``. A bad setting (an
    unknown ``--time-zone``, say) stops the command with a message naming it."""
    values: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if db is not None:
        values["store_url"] = f"sqlite:///{db}"
    elif store_url is not None:
        values["store_url"] = store_url
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(TIME_ZONE) is not None:
        values.setdefault("time_zone", ctx.meta[TIME_ZONE])
    try:
        return Settings(**values)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: "
            f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors())
        raise click.UsageError(f"bad setting (option or CMDB_* variable): {problems}") \
            from None


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; a CmdbError becomes a one-line message and exit status 1."""
    try:
        return asyncio.run(_await(work))
    except CmdbError as exc:
        # soft_wrap: a path in a message stays on one line, as the user typed it
        err.print(f"[red]error[/red] {escape(exc.code)}: {escape(exc.message)}",
                  highlight=False, soft_wrap=True)
        if isinstance(exc, NoCmdbError):
            err.print("check --db / --store-url (or CMDB_STORE_URL); to start a new CMDB "
                      "there, run `cmdb init` or add --create", soft_wrap=True)
        sys.exit(1)


async def _await(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


CREATE = "cmdb.create"
TIME_ZONE = "cmdb.time_zone"


def may_create() -> bool:
    """Whether this command was given ``--create``."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(CREATE))


async def open_cmdb(settings: Settings, *, create: bool | None = None) -> Cmdb:
    """Open the CMDB that ``settings`` name. A store without a CMDB is ``NoCmdbError``
    unless ``create`` (the commands that make one) or the command's ``--create``."""
    cmdb = Cmdb.build(settings)
    await cmdb.open(create=may_create() if create is None else create)
    return cmdb


def with_cmdb(store_url: str | None, db: Path | None,
              work: Callable[[Cmdb], Awaitable[T]]) -> T:
    """Open the CMDB the options name, run ``work`` on it, close it (errors as in run)."""
    settings = settings_from(store_url, db)

    async def go() -> T:
        cmdb = await open_cmdb(settings)
        try:
            return await work(cmdb)
        finally:
            await cmdb.close()

    return run(go)


def _remember_create(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta[CREATE] = value


def _remember_zone(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    ctx.meta[TIME_ZONE] = value


store_options = [
    click.option("--store-url", envvar="CMDB_STORE_URL", default=None,
                 help="sqlite:///path/file.sqlite3 or neo4j://host:7687 "
                      "(default: sqlite:///cmdb.sqlite3 in the current folder)."),
    click.option("--db", type=click.Path(path_type=Path), default=None,
                 help="Shortcut for --store-url sqlite:///DB."),
    click.option("--create", is_flag=True, expose_value=False, callback=_remember_create,
                 help="Create the CMDB if there is none there yet (otherwise a missing "
                      "store is an error)."),
    click.option("--time-zone", default=None, expose_value=False, callback=_remember_zone,
                 metavar="ZONE",
                 help="The IANA time zone people work in, e.g. Asia/Shanghai (default: "
                      "CMDB_TIME_ZONE, else this machine's zone): times without an offset "
                      "are read in it, times are shown in it."),
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
@click.option("--no-auth", is_flag=True,
              help="Demo mode: no sign-in, everyone is admin; loopback only (CMDB_AUTH=none).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--log-format", type=click.Choice(["json", "text"]), default=None,
              help="Log lines as JSON (default, CMDB_LOG_FORMAT) or plain text.")
def serve(store_url: str | None, db: Path | None, host: str, port: int, demo: bool,
          no_auth: bool, log_level: str, log_format: str | None) -> None:
    """Serve GraphQL (and GraphiQL in a browser) at http://HOST:PORT/graphql.

    Callers need an API token (`cmdb token create`) or a sign-in (`cmdb user create`);
    with --no-auth (demo mode) there is none, and the server binds to loopback only.
    """
    import uvicorn

    from cmdb.api.app import create_app
    from cmdb.api.logs import configure_logging
    from cmdb.api.serving import server_config

    settings = settings_from(store_url, db, auth="none" if no_auth else None,
                             log_format=log_format)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if settings.auth == "none" and not loopback:
        err.print("[red]error[/red] demo mode (--no-auth, CMDB_AUTH=none) has no sign-in, so "
                  "it serves on loopback only (127.0.0.1, ::1, localhost). Drop --no-auth to "
                  "serve on other addresses: callers then need an API token.")
        sys.exit(2)

    async def prepare() -> bool:
        cmdb = await open_cmdb(settings, create=True)
        try:
            if demo and await _is_empty(cmdb):
                count = await _load_demo(cmdb)
                err.print(f"Loaded the demo organisation: {count} CIs.")
            return await cmdb.auth.has_credentials()
        finally:
            await cmdb.close()

    has_credentials = run(prepare)
    if settings.auth == "none":
        err.print("[bold yellow]" + "!" * 78 + "\nDEMO MODE, NO AUTHENTICATION: anyone on this "
                  "machine can read and change the CMDB.\nServing loopback only. Never use "
                  "this for real data (drop --no-auth / CMDB_AUTH=none).\n" + "!" * 78
                  + "[/bold yellow]")
    else:
        err.print("Authentication is on: send Authorization: Bearer <token>, or sign in at "
                  f"http://{host}:{port}/login")
        if not has_credentials:
            err.print("[yellow]No API tokens or users yet. Create the first one with:[/yellow]"
                      "\n  cmdb token create --name admin --role admin"
                      + (f" --db {db}" if db else ""))
    err.print(f"GraphiQL: http://{host}:{port}/graphql   store: {settings.store_url}   "
              f"times in: {settings.clock().label}")
    configure_logging(log_level, settings.log_format)
    if settings.trusted_proxies:
        err.print("Forwarded headers are believed from: "
                  + ", ".join(str(n) for n in settings.trusted_proxies))
    uvicorn.Server(server_config(create_app(settings), settings, host, port,
                                 log_level=log_level, log_config=None,
                                 access_log=False)).run()


@main.command()
@with_store
@click.option("--force", is_flag=True, help="Load even if the CMDB already holds CIs.")
def demo(store_url: str | None, db: Path | None, force: bool) -> None:
    """Load a demo organisation (two sites, ~200 CIs, Chinese and English names)."""
    settings = settings_from(store_url, db)

    async def work() -> None:
        cmdb = await open_cmdb(settings, create=True)
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
@with_store
def init(store_url: str | None, db: Path | None) -> None:
    """Create an empty CMDB (a SQLite file made private to you, or the Neo4j
    constraints); nothing changes where there is one already.

    Example: cmdb init --db /var/lib/cmdb/cmdb.sqlite3
    """
    settings = settings_from(store_url, db)

    async def work() -> bool:
        try:
            cmdb = await open_cmdb(settings, create=False)
        except NoCmdbError:
            cmdb = await open_cmdb(settings, create=True)
            await cmdb.close()
            return True
        await cmdb.close()
        return False

    made = run(work)
    click.echo(f"{'created an empty CMDB at' if made else 'there is a CMDB at'} "
               f"{settings.store_url}")


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


@main.command()
@with_store
@click.option("-t", "--template", default=None,
              help="Label stock (default avery-l7160; zebra-2x1in for ZPL). "
                   "See --list-templates.")
@click.option("--tag", "tags", multiple=True, help="An asset tag to print (repeat for more).")
@click.option("--id", "ids", multiple=True, help="A CI id to print (repeat for more).")
@click.option("--class", "classes", multiple=True,
              help="Print this class and its subclasses (name or alias, e.g. Server, 服务器).")
@click.option("--state", "states", multiple=True, help="Only CIs in this lifecycle state.")
@click.option("--location", default=None, help="Only CIs in this place (an id) or below it.")
@click.option("--never-printed", is_flag=True, help="Only CIs whose label was never printed.")
@click.option("--start-offset", default=0, show_default=True, type=click.IntRange(min=0),
              help="Labels already used on the first sheet (they are skipped).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "zpl"]), default=None,
              help="pdf, or zpl for a Zebra printer (default: from the -o suffix, else pdf).")
@click.option("--dpi", type=click.Choice(["203", "300"]), default="203", show_default=True,
              help="The Zebra printer's resolution (ZPL only).")
@click.option("--no-record", is_flag=True, help="Do not record the labels as printed.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The file to write ('-' for standard output).")
@click.option("--list-templates", is_flag=True, help="List the label templates and exit.")
def labels(store_url: str | None, db: Path | None, template: str | None,
           tags: tuple[str, ...], ids: tuple[str, ...], classes: tuple[str, ...],
           states: tuple[str, ...], location: str | None, never_printed: bool,
           start_offset: int, fmt: str | None, dpi: str, no_record: bool,
           output: Path | None, list_templates: bool) -> None:
    """Print asset labels with QR codes: a PDF of label sheets or roll labels, or ZPL.

    Choose CIs by --tag/--id, or by a filter (--class, --state, --location,
    --never-printed); a filter prints CIs that have an asset tag, in tag order.
    Printing is recorded on each CI (label_printed_at, label_printed_by) unless
    --no-record. Example: cmdb labels --class Server --never-printed -o labels.pdf
    """
    from cmdb.cli_labels import list_label_templates, print_labels

    if list_templates:
        list_label_templates()
        return
    if output is None:
        raise click.UsageError("say where to write the labels: -o FILE (or -o - for stdout)")
    listed, filtered = bool(tags or ids), bool(classes or states or location or never_printed)
    if (tags and ids) or (listed and filtered):
        raise click.UsageError("choose CIs one way: --tag, --id, or filter options")
    if not (listed or filtered):
        raise click.UsageError("say what to print: --tag, --id, or a filter (--class, "
                               "--state, --location, --never-printed)")
    fmt = fmt or ("zpl" if output.suffix.lower() == ".zpl" else "pdf")
    settings = settings_from(store_url, db)
    run(lambda: print_labels(
        settings, output, template=template, tags=tags, ids=ids, classes=classes,
        states=states, location=location, never_printed=never_printed,
        start_offset=start_offset, fmt=fmt, dpi=int(dpi), record=not no_record,
    ))


@main.command("check-schema")
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


@main.command()
@with_store
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The dump file to write (JSON Lines).")
def backup(store_url: str | None, db: Path | None, output: Path) -> None:
    """Write a portable, checksummed dump of the CMDB (CIs, relationships, history)."""
    from cmdb.services.backup import backup as dump

    settings = settings_from(store_url, db)

    async def work() -> None:
        cmdb = await open_cmdb(settings)
        try:
            tmp = output.with_name(output.name + ".partial")
            with progress_bar("Backing up", None) as bar, \
                    open_private(tmp, settings.file_group) as f:
                task = bar.add_task("backup", total=None)
                counts = await dump(cmdb.store, f, lambda n: bar.advance(task, n))
            tmp.replace(output)
            click.echo(f"wrote {output}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        finally:
            await cmdb.close()

    run(work)


@main.command()
@with_store
@click.argument("dump", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--replace", is_flag=True, help="Wipe a non-empty target store first.")
def restore(store_url: str | None, db: Path | None, dump: Path, replace: bool) -> None:
    """Load a dump written by `cmdb backup` into an empty store (either kind).

    The dump is checked whole first (checksum, unique ids and keys, relationship ends).
    SQLite loads it in one transaction. Neo4j loads it in batches of bounded memory: if
    the load stops part-way, run the same command again to resume it."""
    from cmdb.services.backup import restore as load

    settings = settings_from(store_url, db)

    async def work() -> None:
        cmdb = await open_cmdb(settings, create=True)
        try:
            with progress_bar("Restoring", None) as bar:
                task = bar.add_task("restore", total=None)
                counts = await load(cmdb.store, dump, replace=replace,
                                    progress=lambda n: bar.advance(task, n))
            click.echo(f"restored into {settings.store_url}: "
                       + ", ".join(f"{v} {k}" for k, v in counts.items()))
        finally:
            await cmdb.close()

    run(work)


@main.command()
@click.option("--from", "source", required=True, help="Store URL to copy from.")
@click.option("--to", "target", required=True, help="Store URL to copy into (must be empty).")
@click.option("--replace", is_flag=True, help="Wipe a non-empty target store first.")
def migrate(source: str, target: str, replace: bool) -> None:
    """Move a CMDB between stores losslessly, e.g. --from sqlite:///cmdb.sqlite3
    --to neo4j://db:7687 (Neo4j credentials from CMDB_STORE_USER/CMDB_STORE_PASSWORD).

    Into Neo4j the load goes in batches of bounded memory; if it stops part-way, run the
    same command again: it resumes where it stopped (if the source has not changed)."""
    import tempfile

    from cmdb.services.backup import backup as dump
    from cmdb.services.backup import restore as load

    async def work() -> None:
        src = await open_cmdb(Settings(store_url=source), create=False)
        try:
            dst = await open_cmdb(Settings(store_url=target), create=True)
        except BaseException:
            await src.close()
            raise
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "migrate.jsonl"
                with progress_bar("Reading", None) as bar, \
                        path.open("w", encoding="utf-8") as f:
                    task = bar.add_task("read", total=None)
                    counts = await dump(src.store, f, lambda n: bar.advance(task, n))
                with progress_bar("Loading", None) as bar:
                    task = bar.add_task("load", total=sum(counts.values()))
                    counts = await load(dst.store, path, replace=replace,
                                        progress=lambda n: bar.advance(task, n))
            click.echo(f"migrated {source} -> {target}: "
                       + ", ".join(f"{v} {k}" for k, v in counts.items()))
        finally:
            await src.close()
            await dst.close()

    run(work)


def _register_more() -> None:
    from cmdb.cli_audit import register as register_audit
    from cmdb.cli_export import register as register_export
    from cmdb.cli_impact import register
    from cmdb.cli_import import register as register_import
    from cmdb.cli_token import register as register_access

    register()
    register_access()
    register_import()
    register_audit()
    register_export()


_register_more()

if __name__ == "__main__":
    main()
