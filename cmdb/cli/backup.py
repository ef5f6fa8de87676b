"""The store's life: ``cmdb init``, ``cmdb backup``, ``cmdb restore`` and ``cmdb migrate``."""

from __future__ import annotations

from pathlib import Path

import click

from cmdb.cli.base import open_cmdb, progress_bar, run, settings_from, with_store
from cmdb.errors import NoCmdbError
from cmdb.files import open_private
from cmdb.settings import Settings


@click.command()
@with_store
def init(store_url: str | None, db: Path | None) -> None:
    """Create an empty CMDB (a SQLite file made private to you, or the Neo4j
    constraints); nothing changes where there is one already.

    Example: cmdb init --db /var/lib/cmdb/cmdb.sqlite3
    """
    settings = settings_from(store_url, db)

    async def work() -> bool:
        try:
            async with open_cmdb(settings, create=False):
                return False
        except NoCmdbError:
            pass
        async with open_cmdb(settings, create=True):
            return True

    made = run(work)
    click.echo(f"{'created an empty CMDB at' if made else 'there is a CMDB at'} "
               f"{settings.store_url}")


@click.command()
@with_store
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The dump file to write (JSON Lines).")
def backup(store_url: str | None, db: Path | None, output: Path) -> None:
    """Write a portable, checksummed dump of the CMDB (CIs, relationships, history)."""
    from cmdb.services.backup.service import backup as dump

    settings = settings_from(store_url, db)

    async def work() -> None:
        async with open_cmdb(settings) as cmdb:
            tmp = output.with_name(output.name + ".partial")
            with progress_bar("Backing up", None) as bar, \
                    open_private(tmp, settings.file_group) as f:
                task = bar.add_task("backup", total=None)
                counts = await dump(cmdb.store, f, lambda n: bar.advance(task, n))
            tmp.replace(output)
            click.echo(f"wrote {output}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))

    run(work)


@click.command()
@with_store
@click.argument("dump", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--replace", is_flag=True, help="Wipe a non-empty target store first.")
def restore(store_url: str | None, db: Path | None, dump: Path, replace: bool) -> None:
    """Load a dump written by `cmdb backup` into an empty store (either kind).

    The dump is checked whole first (checksum, unique ids and keys, relationship ends).
    SQLite loads it in one transaction. Neo4j loads it in batches of bounded memory: if
    the load stops part-way, run the same command again to resume it."""
    from cmdb.services.backup.service import restore as load

    settings = settings_from(store_url, db)

    async def work() -> None:
        async with open_cmdb(settings, create=True) as cmdb:
            with progress_bar("Restoring", None) as bar:
                task = bar.add_task("restore", total=None)
                counts = await load(cmdb.store, dump, replace=replace,
                                    progress=lambda n: bar.advance(task, n))
            click.echo(f"restored into {settings.store_url}: "
                       + ", ".join(f"{v} {k}" for k, v in counts.items()))

    run(work)


@click.command()
@click.option("--from", "source", required=True, help="Store URL to copy from.")
@click.option("--to", "target", required=True, help="Store URL to copy into (must be empty).")
@click.option("--replace", is_flag=True, help="Wipe a non-empty target store first.")
def migrate(source: str, target: str, replace: bool) -> None:
    """Move a CMDB between stores losslessly, e.g. --from sqlite:///cmdb.sqlite3
    --to neo4j://db:7687 (Neo4j credentials from CMDB_STORE_USER/CMDB_STORE_PASSWORD).

    Into Neo4j the load goes in batches of bounded memory; if it stops part-way, run the
    same command again: it resumes where it stopped (if the source has not changed)."""
    import tempfile

    from cmdb.services.backup.service import backup as dump
    from cmdb.services.backup.service import restore as load

    async def work() -> None:
        async with open_cmdb(Settings(store_url=source), create=False) as src, \
                open_cmdb(Settings(store_url=target), create=True) as dst:
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

    run(work)
