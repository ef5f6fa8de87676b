"""``cmdb labels``: choose CIs, render their labels, record the printing.

The drawing libraries take a moment to import, so they are loaded only when labels
are printed (or their templates listed), not whenever ``cmdb`` starts.
"""

from __future__ import annotations

import asyncio
import getpass
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from cmdb.cli.base import err, open_cmdb, progress_bar, run, settings_from, with_store
from cmdb.errors import LabelRenderError
from cmdb.model.records import Actor, Channel
from cmdb.services import Cmdb
from cmdb.settings import Settings

if TYPE_CHECKING:
    from cmdb.services.labels.service import LabelSelection


def cli_actor() -> Actor:
    """Who prints: the login name of the person at the terminal."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        name = "cli"
    return Actor(name=name, channel=Channel.CLI)


def say(text: str) -> None:
    """A line for the person at the terminal, on stderr (stdout may carry the labels)."""
    err.print(text, markup=False, soft_wrap=True)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def list_label_templates() -> None:
    """Print the label templates, one a line."""
    from labels import LabelError, load_templates

    try:
        templates = load_templates()
    except LabelError as exc:
        raise LabelRenderError(exc.message, exc.code) from exc
    for name, t in sorted(templates.items()):
        layout = f"{t.columns} x {t.rows}" if t.kind == "sheet" else "roll"
        size = f"{t.label.width_mm:g} x {t.label.height_mm:g} mm"
        click.echo(f"{name:<20} {layout:<8} {size:<18} {t.description}")


def _selection(cmdb: Cmdb, tags: tuple[str, ...], ids: tuple[str, ...],
               classes: tuple[str, ...], states: tuple[str, ...], location: str | None,
               never_printed: bool) -> LabelSelection:
    from cmdb.services.cis.inputs import CIFilterInput
    from cmdb.services.labels.service import LabelSelection

    if tags or ids:
        return LabelSelection(ids=ids or None, asset_tags=tags or None)
    registry = cmdb.registry
    # People type what they see on screen: a class's Chinese name, a state's alias.
    filt = CIFilterInput(
        classes=[registry.resolve_class(c) or c for c in classes] or None,
        states=[registry.resolve_state(s) or s for s in states] or None,
        location_id=location,
    )
    return LabelSelection(filter=filt, never_printed=never_printed)


async def print_labels(
    settings: Settings, output: Path, *, template: str | None, tags: tuple[str, ...],
    ids: tuple[str, ...], classes: tuple[str, ...], states: tuple[str, ...],
    location: str | None, never_printed: bool, start_offset: int, fmt: str, dpi: int,
    record: bool,
) -> None:
    """Write the chosen CIs' labels to ``output`` and record them as printed."""
    batch_format: Literal["pdf", "zpl"] = "zpl" if fmt == "zpl" else "pdf"
    async with open_cmdb(settings) as cmdb:
        service = cmdb.labels
        tpl = service.template(template, batch_format)
        found = await service.select(_selection(cmdb, tags, ids, classes, states, location,
                                                never_printed))
        if found.untagged:
            say(f"Skipping {plural(len(found.untagged), 'CI')} without an asset tag.")
        total = len(found.cis)
        with progress_bar("Rendering labels", total) as bar:
            task = bar.add_task("labels", total=total)
            data = await service.render_batch(
                found.cis, batch_format, tpl.name, start_offset, dpi,
                progress=lambda done, _total: bar.update(task, completed=done),
            )
        if str(output) == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            await asyncio.to_thread(output.write_bytes, data)
        pages = total if tpl.kind == "roll" else math.ceil((start_offset + total) / tpl.per_page)
        where = "standard output" if str(output) == "-" else str(output)
        what = (f"{plural(total, 'label')} ({tpl.name}, {plural(pages, 'page')})"
                if batch_format == "pdf" else
                f"{plural(total, 'label')} as ZPL ({tpl.name}, {dpi} dpi)")
        say(f"Wrote {what} to {where}.")
        if record:
            actor = cli_actor()
            await service.record_printed(actor, [c.id for c in found.cis])
            say(f"Recorded as printed by {actor.name}.")


@click.command(name="labels")
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
def labels_command(store_url: str | None, db: Path | None, template: str | None,
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
