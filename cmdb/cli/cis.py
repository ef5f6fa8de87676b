"""``cmdb export``: the register as CSV or XLSX, and the monthly configuration list.

A thin wrapper over :mod:`cmdb.services.cis.export`: the filters are those of the
GraphQL ``cis`` query, typed as people see them (a class's or state's Chinese name, a
place's path, an owner's name); the file is written beside its final name and moved
there when complete, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cmdb.cli.base import err, open_cmdb, progress_bar, run, settings_from, with_store
from cmdb.services import Cmdb
from cmdb.services.cis.export import (
    CIExport,
    Encoding,
    Format,
    Lang,
    chunks,
    config_list_chunks,
    find_party,
    find_place,
    write_file,
)
from cmdb.services.cis.inputs import CIFilterInput


async def export_filter(cmdb: Cmdb, export: CIExport, classes: tuple[str, ...],
                        states: tuple[str, ...], location: str | None, owner: str | None,
                        text: str | None, attributes: tuple[str, ...]) -> CIFilterInput:
    """The filter the options describe, names resolved as the importer resolves them."""
    registry = cmdb.registry
    attrs: dict[str, Any] = {}
    for item in attributes:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: give NAME=VALUE", param_hint="--attribute")
        attrs[name.strip()] = value
    return CIFilterInput(
        classes=[registry.resolve_class(c) or c for c in classes] or None,
        states=[registry.resolve_state(s) or s for s in states] or None,
        location_id=await find_place(export, cmdb.imports.config.places, location)
        if location else None,
        owner_id=await find_party(export, owner) if owner else None,
        text=text or None, attributes=attrs or None)



@click.group()
def export() -> None:
    """The register as CSV or XLSX, and the monthly configuration list (配置清单)."""

@export.command("cis")
@with_store
@click.option("--class", "classes", multiple=True, metavar="CLASS",
              help="Only CIs of this class or its subclasses (name or label, e.g. "
                   "服务器); repeat for several.")
@click.option("--state", "states", multiple=True, metavar="STATE",
              help="Only CIs in this state (e.g. deployed, 在用); repeat for several.")
@click.option("--location", metavar="PLACE",
              help="Only CIs in this place or below it: a path as the register writes "
                   "it (北京总部/3楼机房), an asset tag or an id.")
@click.option("--owner", metavar="WHO",
              help="Only CIs owned by this person or team (name, asset tag or id).")
@click.option("--text", metavar="TEXT",
              help="Only CIs whose name, asset tag or serial number contains TEXT.")
@click.option("--attribute", "attributes", multiple=True, metavar="NAME=VALUE",
              help="Only CIs whose attribute NAME is VALUE; repeat for several.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="csv or xlsx (default: from the file name, else csv).")
@click.option("--encoding", type=click.Choice(["utf-8-sig", "gb18030"]),
              default="utf-8-sig", show_default=True,
              help="CSV only: UTF-8 with a BOM, or GB18030 for older Excel in China.")
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default="zh-CN",
              show_default=True, help="The headers' and labels' language.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The file to write.")
def export_cis(store_url: str | None, db: Path | None, classes: tuple[str, ...],
               states: tuple[str, ...], location: str | None, owner: str | None,
               text: str | None, attributes: tuple[str, ...], fmt: str | None,
               encoding: str, lang: str, output: Path) -> None:
    """Write the register (every CI the filters select) as a sheet that `cmdb import
    csv` / `cmdb import xlsx` reads back unchanged.

    \b
    Examples:
      cmdb export cis -o 资产清单.csv
      cmdb export cis --class 服务器 --state 在用 --format xlsx -o servers.xlsx
      cmdb export cis --location 北京总部/3楼机房 --encoding gb18030 -o room3.csv
    """
    settings = settings_from(store_url, db)
    chosen: Format = "xlsx" if (fmt or output.suffix.lower().lstrip(".")) == "xlsx" \
        else "csv"

    async def work() -> int:
        async with open_cmdb(settings) as cmdb:
            exp = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
            f = await export_filter(cmdb, exp, classes, states, location, owner, text,
                                    attributes)
            total = await exp.count(exp.selection(f))
            with progress_bar("Exporting", total) as bar:
                task = bar.add_task("export", total=total)
                lang_: Lang = "en" if lang == "en" else "zh-CN"
                enc: Encoding = "gb18030" if encoding == "gb18030" else "utf-8-sig"
                await write_file(chunks(exp, f, chosen, lang=lang_, encoding=enc,
                                        progress=lambda n: bar.advance(task, n)),
                                 output)
            return total

    total = run(work)
    err.print(f"Exported {total} CIs to {output}", markup=False, soft_wrap=True)

@export.command("config-list")
@with_store
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default="zh-CN",
              show_default=True, help="The sheet names', headers' and labels' language.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The .xlsx file to write.")
def export_config_list(store_url: str | None, db: Path | None, lang: str,
                       output: Path) -> None:
    """Write the monthly configuration list (配置清单): an XLSX workbook with one
    sheet per class, each CI with its fields and its relationships both ways.

    \b
    Example:
      cmdb export config-list -o 配置清单-2026-11.xlsx
    """
    settings = settings_from(store_url, db)

    async def work() -> int:
        async with open_cmdb(settings) as cmdb:
            exp = CIExport(cmdb.store, cmdb.registry, cmdb.queries)
            total = await exp.count(exp.selection(None))
            with progress_bar("Exporting", total) as bar:
                task = bar.add_task("export", total=total)
                await write_file(config_list_chunks(
                    exp, lang="en" if lang == "en" else "zh-CN",
                    progress=lambda n: bar.advance(task, n)), output)
            return total

    total = run(work)
    err.print(f"Exported {total} CIs to {output}", markup=False, soft_wrap=True)
