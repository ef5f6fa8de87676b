"""The work behind ``cmdb labels``: choose CIs, render their labels, record the printing.

The command's options live in :mod:`cmdb.cli.main`; this module is loaded only when
labels are printed, since the drawing libraries take a moment to import.
"""

from __future__ import annotations

import asyncio
import getpass
import math
import sys
from pathlib import Path
from typing import Literal

import click

from cmdb.cli.main import err, progress_bar
from cmdb.errors import LabelRenderError
from cmdb.model.records import Actor, Channel
from cmdb.services import Cmdb
from cmdb.services.cis.inputs import CIFilterInput
from cmdb.services.labels.service import LabelSelection
from cmdb.settings import Settings
from labels import LabelError, load_templates


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
    from cmdb.cli.main import open_cmdb

    cmdb = await open_cmdb(settings)
    try:
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
    finally:
        await cmdb.close()
