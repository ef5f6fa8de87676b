"""``cmdb impact`` and ``cmdb dependencies``: the impact questions from a terminal."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import click

from cmdb.cli.base import open_cmdb, run, settings_from, with_store
from cmdb.errors import NotFoundError
from cmdb.services import Cmdb
from cmdb.services.impact.service import ImpactKind, ImpactReport


async def resolve(cmdb: Cmdb, refs: tuple[str, ...]) -> list[str]:
    """CI ids from asset tags or ids, as a person types them."""
    ids = []
    for ref in refs:
        ci = await cmdb.store.find_ci_by_asset_tag(ref) or await cmdb.queries.get(ci_id=ref)
        if ci is None:
            raise NotFoundError(f"no CI with asset tag or id {ref!r}", value=ref)
        ids.append(ci.id)
    return ids


def report_json(report: ImpactReport) -> dict[str, Any]:
    def ci(c: Any) -> dict[str, Any]:
        return {"id": c.id, "class": c.class_name, "name": c.name, "assetTag": c.asset_tag}

    return {
        "kind": report.kind.value, "truncated": report.truncated,
        "changed": [ci(c) for c in report.changed],
        "impacted": [{"ci": ci(i.ci), "status": i.status.name, "depth": i.depth,
                      "path": [{"from": s.source_id, "type": s.type, "to": s.target_id}
                               for s in i.path]} for i in report.impacted],
        "services": [{"ci": ci(i.ci), "status": i.status.name} for i in report.services],
        "notify": [{"party": ci(n.party), "roles": n.roles, "cis": [c.id for c in n.cis]}
                   for n in report.notify],
    }


def report_tree(report: ImpactReport) -> str:
    """The blast radius as an indented tree: each CI under the one that takes it down."""
    children: dict[str | None, list[Any]] = defaultdict(list)
    for item in report.impacted:
        children[item.reached_from].append(item)
    lines: list[str] = []

    def walk(node: str, indent: int) -> None:
        for item in sorted(children.get(node, []), key=lambda i: i.ci.name):
            via = item.path[-1].type if item.path else ""
            lines.append(f"{'  ' * indent}└─ {item.ci.name} [{item.ci.class_name}] "
                         f"{item.status.name} (via {via})")
            walk(item.ci.id, indent + 1)

    kind = "planned maintenance of" if report.planned else "outage of"
    for changed in report.changed:
        lines.append(f"{kind} {changed.name} [{changed.class_name}]")
        walk(changed.id, 1)
    lines.append("")
    lines.append(f"{len(report.impacted)} CIs impacted; business services: "
                 + (", ".join(f"{s.ci.name} {s.status.name}" for s in report.services)
                    or "none"))
    if report.notify:
        lines.append("notify: " + "; ".join(f"{n.party.name} ({', '.join(n.roles)}, "
                                            f"{len(n.cis)} CIs)" for n in report.notify))
    if report.truncated:
        lines.append("(stopped at the depth limit: more is reachable; raise --depth)")
    return "\n".join(lines)


@click.command()
@with_store
@click.argument("refs", nargs=-1, required=True)
@click.option("--maintenance", is_flag=True, help="A planned outage (reported as planned).")
@click.option("--depth", default=10, show_default=True, help="How far to follow.")
@click.option("--type", "types", multiple=True,
              help="Only follow these relationship types (repeat).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def impact(store_url: str | None, db: Any, refs: tuple[str, ...], maintenance: bool,
           depth: int, types: tuple[str, ...], as_json: bool) -> None:
    """What breaks if these CIs (asset tags or ids) go down, and whom to tell."""
    settings = settings_from(store_url, db)

    async def work() -> None:
        async with open_cmdb(settings) as cmdb:
            report = await cmdb.impact.impact(
                await resolve(cmdb, refs),
                ImpactKind.MAINTENANCE if maintenance else ImpactKind.OUTAGE, depth,
                list(types) or None)
        click.echo(json.dumps(report_json(report), ensure_ascii=False, indent=2)
                   if as_json else report_tree(report))

    run(work)
