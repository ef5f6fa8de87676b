"""``cmdb audit``: run an audit campaign from a terminal (a thin wrapper over
:class:`cmdb.services.audit.service.CampaignService`)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from cmdb.cli.base import with_cmdb, with_store
from cmdb.model.records import Actor, Channel
from cmdb.services import Cmdb
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.values import OpenFindings

T = TypeVar("T")


def actor(name: str | None) -> Actor:
    return Actor(name=name or "cli", channel=Channel.AUDIT)


@click.group()
def audit() -> None:
    """Audit campaigns: plan, open, import scans, see progress, close, report."""


@audit.command()
@with_store
@click.argument("name")
@click.option("--place", "places", multiple=True, required=True,
              help="A place id or path (e.g. 北京总部); everything below it is in scope.")
@click.option("--class", "classes", multiple=True, help="Classes in scope (default Hardware).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option("--auditor", "auditors", multiple=True, help="An auditor's name (repeat).")
@click.option("--discovery-verifies", is_flag=True,
              help="Count discovery imports as verification.")
@click.option("--as", "who", default=None, help="Your name, for history.")
def create(store_url: str | None, db: Path | None, name: str, places: tuple[str, ...],
           classes: tuple[str, ...], start: Any, end: Any, auditors: tuple[str, ...],
           discovery_verifies: bool, who: str | None) -> None:
    """Plan a campaign NAME over places and classes."""
    async def work(cmdb: Cmdb) -> None:
        ids = []
        for p in places:
            pid = await cmdb.campaigns.resolve_place(p)
            if pid is None:
                raise click.BadParameter(f"no place {p!r}", param_hint="--place")
            ids.append(pid)
        campaign = await cmdb.campaigns.create(actor(who), CampaignInput(
            name, ids, list(classes), _day(start), _day(end), list(auditors),
            discovery_verifies))
        click.echo(f"planned {campaign.name} ({campaign.id})")

    with_cmdb(store_url, db, work)


@audit.command(name="open")
@with_store
@click.argument("name")
@click.option("--as", "who", default=None, help="Your name, for history.")
def open_(store_url: str | None, db: Path | None, name: str, who: str | None) -> None:
    """Open campaign NAME (name or id) for sightings."""
    async def work(cmdb: Cmdb) -> None:
        campaign = await cmdb.campaigns.open(actor(who), name)
        click.echo(f"opened {campaign.name}")

    with_cmdb(store_url, db, work)


@audit.command()
@with_store
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "who", default=None, help="Your name, for history.")
def scans(store_url: str | None, db: Path | None, name: str, file: Path,
          who: str | None) -> None:
    """Record an inspection-scan FILE (CSV) into the open campaign NAME; a bad file
    records nothing, the same file twice records nothing new."""
    from cmdb.services.audit.recording import scan_file_sightings

    async def work(cmdb: Cmdb) -> None:
        campaign = await cmdb.campaigns.get(name)
        if campaign.status != "open":
            raise click.ClickException(f"campaign {name} is {campaign.status}, not open")
        result = await cmdb.campaigns.record_sightings(
            actor(who), scan_file_sightings(file, cmdb.clock), "scan")
        click.echo(f"{result.recorded} sightings recorded, {result.duplicates} already "
                   f"known, {result.unscoped} outside any open campaign")

    with_cmdb(store_url, db, work)


@audit.command()
@with_store
@click.argument("name")
@click.option("--open-findings", type=click.Choice(["leave-open", "carry-over"]),
              help="What happens to findings still open (needed when there are some).")
@click.option("--reason", default=None, help="Why, for the record.")
@click.option("--as", "who", default=None, help="Your name, for history.")
def close(store_url: str | None, db: Path | None, name: str, open_findings: str | None,
          reason: str | None, who: str | None) -> None:
    """Close campaign NAME: assets never seen become MISSING."""
    decision = OpenFindings(open_findings.upper().replace("-", "_")) if open_findings \
        else None

    async def work(cmdb: Cmdb) -> None:
        campaign = await cmdb.campaigns.close(actor(who), name, decision, reason)
        click.echo(f"closed {campaign.name}")

    with_cmdb(store_url, db, work)


@audit.command()
@with_store
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(store_url: str | None, db: Path | None, name: str | None,
           as_json: bool) -> None:
    """Campaigns, or one campaign's progress per place and findings per type."""
    from cmdb.services.audit.report import gather

    async def work(cmdb: Cmdb) -> None:
        if name is None:
            campaigns, _ = await cmdb.campaigns.find(first=100)
            for c in campaigns:
                click.echo(f"{c.status:8} {c.name}  ({c.id})")
            return
        data = await gather(cmdb, name)
        out: dict[str, Any] = {"name": data.campaign.name, "status": data.campaign.status,
               "findings": {t: {s: n for s, n in by.items() if n}
                            for t, by in data.counts.items()},
               "places": [{"place": p.name, "registered": p.registered, "seen": p.seen,
                           "verified": p.verified, "open": p.open} for p in data.places]}
        if as_json:
            click.echo(json.dumps(out, ensure_ascii=False, indent=2))
            return
        click.echo(f"{out['name']}: {out['status']}")
        for t, by in out["findings"].items():
            if by:
                click.echo(f"  {t:20} " + ", ".join(f"{s} {n}" for s, n in by.items()))
        for p in out["places"]:
            click.echo(f"  {p['place']}: {p['verified']}/{p['registered']} verified, "
                       f"{p['seen']} seen, {p['open']} open")

    with_cmdb(store_url, db, work)


@audit.command()
@with_store
@click.argument("name")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="report.pdf or report.csv (from the suffix).")
@click.option("--lang", type=click.Choice(["zh-CN", "en"]), default="zh-CN",
              show_default=True, help="The PDF's language (headings, columns, codes).")
def report(store_url: str | None, db: Path | None, name: str, output: Path,
           lang: str) -> None:
    """Write campaign NAME's report (counts, open findings, resolutions, signatures)."""
    from cmdb.services.audit.report import gather, to_csv, to_pdf

    async def work(cmdb: Cmdb) -> bytes:
        data = await gather(cmdb, name)
        if output.suffix.lower() == ".csv":
            return ("\ufeff" + to_csv(data)).encode("utf-8")
        return to_pdf(data, lang)

    output.write_bytes(with_cmdb(store_url, db, work))
    click.echo(f"wrote {output}")


@audit.command()
@with_store
@click.option("--stale-days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="Hardware no discovery source reported for this many days is stale.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="How many CIs to list per question (counts are exact).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def health(store_url: str | None, db: Path | None, stale_days: int, limit: int,
           as_json: bool) -> None:
    """CMDB health: incomplete CIs per class, duplicate candidates, hardware not seen
    by discovery for --stale-days, never audited or not in the latest campaign."""
    async def work(cmdb: Cmdb) -> None:
        report = await cmdb.health.report(stale_days, limit)
        data = dataclasses.asdict(report)
        if as_json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        click.echo("completeness (incomplete / total, missing):")
        for c in report.completeness:
            if c.incomplete:
                missing = ", ".join(f"{k} {n}" for k, n in sorted(c.missing.items()))
                click.echo(f"  {c.class_name:24} {c.incomplete}/{c.total}  {missing}")
        click.echo(f"duplicate candidates: {len(report.duplicates)}")
        for g in report.duplicates:
            click.echo(f"  same {g.reason} {g.value!r}: {', '.join(g.ci_ids)}")
        click.echo(f"not seen by discovery for {stale_days} days: "
                   f"{report.stale_discovery_count}")
        click.echo(f"never audited: {report.never_audited_count}")
        click.echo(f"not audited in the latest campaign ({report.last_campaign or '-'}): "
                   f"{report.not_in_last_campaign_count}")

    with_cmdb(store_url, db, work)


def _day(value: Any) -> date | None:
    return value.date() if value is not None else None
