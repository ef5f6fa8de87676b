"""``cmdb demo``: load the demo organisation (``cmdb serve --demo`` loads it too)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cmdb.cli.base import err, open_cmdb, progress_bar, run, settings_from, with_store
from cmdb.model.queries import CISelection
from cmdb.services import Cmdb


async def is_empty(cmdb: Cmdb) -> bool:
    """Whether the CMDB holds no CI yet."""
    return await cmdb.store.count_cis(CISelection()) == 0


async def load_demo(cmdb: Cmdb) -> int:
    """Load the demo organisation with a progress bar; the number of CIs loaded."""
    from cmdb.services.demo import load_demo as load

    with progress_bar("Loading demo data", None) as bar:
        task = bar.add_task("demo", total=None)
        return await load(cmdb, lambda n: bar.advance(task, n))


@click.command()
@with_store
@click.option("--force", is_flag=True, help="Load even if the CMDB already holds CIs.")
def demo(store_url: str | None, db: Path | None, force: bool) -> None:
    """Load a demo organisation (two sites, ~200 CIs, Chinese and English names)."""
    settings = settings_from(store_url, db)

    async def work() -> None:
        async with open_cmdb(settings, create=True) as cmdb:
            if not force and not await is_empty(cmdb):
                err.print("The CMDB is not empty; use --force to add the demo data anyway.")
                sys.exit(1)
            count = await load_demo(cmdb)
            click.echo(f"Loaded {count} CIs into {settings.store_url}")

    run(work)
