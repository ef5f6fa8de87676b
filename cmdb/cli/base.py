"""What every ``cmdb`` command shares: the store options (``--store-url``, ``--db``,
``--create``, ``--time-zone``), the settings they make, opening the CMDB, running a
coroutine with errors as one line and exit status 1, and progress bars.

The command modules (one per domain) import this module; :mod:`cmdb.cli.main` gathers
their commands into the ``cmdb`` group. Nothing here imports a command module.
"""

from __future__ import annotations

import asyncio
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
from cmdb.root import connect
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


def open_cmdb(settings: Settings, *, create: bool | None = None) -> Cmdb:
    """The CMDB that ``settings`` name, for ``async with open_cmdb(settings) as cmdb:``.
    A store without a CMDB is ``NoCmdbError`` unless ``create`` (the commands that make
    one) or the command's ``--create``."""
    return connect(settings, create=may_create() if create is None else create)


def with_cmdb(store_url: str | None, db: Path | None,
              work: Callable[[Cmdb], Awaitable[T]]) -> T:
    """Open the CMDB the options name, run ``work`` on it, close it (errors as in run)."""
    settings = settings_from(store_url, db)

    async def go() -> T:
        async with open_cmdb(settings) as cmdb:
            return await work(cmdb)

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
    """Add the store options to a command (its function takes ``store_url`` and ``db``)."""
    for option in reversed(store_options):
        f = option(f)
    return f
