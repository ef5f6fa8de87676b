"""``cmdb import SOURCE FILE``: preview or apply an inventory sheet, scan or agent file."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

import click

from cmdb.cli.base import err, open_cmdb, progress_bar, run, settings_from, with_store
from cmdb.errors import ImportRejectedError
from cmdb.services.imports.records import ImportRun
from cmdb.services.imports.service import ImportRequest
from importers import ColumnMapping, importer_names


def summary(run: ImportRun) -> str:
    shown = ", ".join(f"{n} {k}" for k, n in run.counts.items() if n)
    verb = {"dry_run": "previewed (nothing written)", "applied": "applied",
            "rejected": "rejected (nothing written)"}.get(run.status, run.status)
    fed = run.campaign
    audit = (f"; audit campaigns: {fed.recorded} sightings recorded, {fed.duplicates} "
             f"already known, {fed.unscoped} outside every open campaign") if fed else ""
    parties = ", ".join(f"{n} {k}" for k, n in (run.parties or {}).items())
    people = f"; people and teams: {parties}" if parties else ""
    return (f"import {run.id} of {run.file} {verb}: {shown or 'no records'}"
            f"{people}{audit}")


@click.command(name="import")
@with_store
@click.argument("source", type=click.Choice(importer_names()))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show every outcome and change; write none.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A YAML column mapping for sheets (see docs/importers.md).")
@click.option("--encoding", help="The CSV encoding (default: detected strictly).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the run as JSON: id, counts, outcomes with differences.")
@click.option("--apply-valid-only", is_flag=True,
              help="Apply the valid records and list the rejected ones.")
@click.option("--create-places", is_flag=True,
              help="Register places of location paths that do not exist yet.")
@click.option("--campaign", default=None,
              help="Scans and discovery: feed only this open audit campaign "
                   "(default: every open campaign whose scope fits).")
def import_file(store_url: str | None, db: Any, source: str, file: Path, dry_run: bool,
                mapping: Path | None, encoding: str | None, as_json: bool,
                apply_valid_only: bool, create_places: bool,
                campaign: str | None) -> None:
    """Import FILE from SOURCE (csv, xlsx, nmap, glpi, ocs, lshw, scans).

    An applied scans file records sightings, and an applied nmap, glpi, ocs or lshw
    file counts as "seen by discovery", in the open audit campaigns."""
    settings = settings_from(store_url, db)
    request = ImportRequest(
        source, file, dry_run=dry_run, apply_valid_only=apply_valid_only,
        create_places=create_places, encoding=encoding, campaign=campaign,
        mapping=ColumnMapping.load(mapping) if mapping else None)

    async def work() -> None:
        async with open_cmdb(settings) as cmdb:
            with progress_bar(f"importing {file.name}", None) as bar:
                task = bar.add_task("records", total=None)
                try:
                    done = await cmdb.imports.run(
                        _who(), request, lambda n: bar.advance(task, n))
                except ImportRejectedError as exc:
                    if as_json and "runId" in exc.details:
                        refused = await cmdb.imports.report(exc.details["runId"])
                        click.echo(json.dumps(refused, ensure_ascii=False, indent=2))
                    raise
            if as_json:
                click.echo(json.dumps(await cmdb.imports.report(done.id),
                                      ensure_ascii=False, indent=2))
            else:
                click.echo(summary(done))
                for r in done.rejected[:20]:
                    err.print(f"rejected: {done.file} line {r.line} "
                              f"field {r.field or '-'}: {r.reason}", markup=False)
        if done.would_reject:
            err.print("the file would be rejected: fix the records above or use "
                      "--apply-valid-only", markup=False)
            sys.exit(1)

    run(work)


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
