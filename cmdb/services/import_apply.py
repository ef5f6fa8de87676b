"""Applying a reconciled import in one unit of work, and the in-file duplicate ledger.

:func:`apply_plans` runs inside ``store.write``: the places and software products
the run needs, then each observation's create / update / transition / software
change through the CI service's transaction-level rules, every change attributed
to the import run. Updates are compare-and-set on the version reconciliation
read, so a CI someone changed meanwhile fails the whole run (nothing is written).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from cmdb.model.records import Actor, HistoryEntry, Provenance
from cmdb.services.cis import CIService
from cmdb.services.inputs import NewCI
from cmdb.services.outcomes import Outcome, Planned
from cmdb.services.places import NewPlace
from cmdb.services.software import INSTALLED_ON, INSTANCE_OF, ProductCatalog
from cmdb.store.base import StoreTx

HISTORY_BATCH = 2000
RETIRED, IN_USE = "retired", "deployed"
SQL_VARIABLES = 900


class KeyLedger:
    """Which identifying values (and CIs) earlier records of the file already used.

    Kept in a private temporary SQLite file, so a million-row file costs disk,
    not memory. A record reusing a value is a duplicate: the file states two
    things about one asset.
    """

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "" = a private temporary on-disk database
        self.db.execute("PRAGMA cache_size=-4000")
        self.db.execute("CREATE TABLE k (key TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    def claim(self, entries: Sequence[tuple[list[str], int | None]]
              ) -> list[tuple[str, int | None] | None]:
        """For each entry (keys, line): ``None``, or the key an earlier record used and
        that record's line. Entries that are not duplicates claim their keys."""
        wanted = sorted({k for keys, _ in entries for k in keys})
        seen: dict[str, int | None] = {}
        for i in range(0, len(wanted), SQL_VARIABLES):
            part = wanted[i:i + SQL_VARIABLES]
            marks = ",".join("?" * len(part))
            seen.update(self.db.execute(
                f"SELECT key, line FROM k WHERE key IN ({marks})", part).fetchall())  # noqa: S608 - only placeholders
        out: list[tuple[str, int | None] | None] = []
        fresh: list[tuple[str, int | None]] = []
        for keys, line in entries:
            dup = next((k for k in keys if k in seen), None)
            if dup is not None:
                out.append((dup, seen[dup]))
                continue
            for key in keys:
                seen[key] = line
                fresh.append((key, line))
            out.append(None)
        self.db.executemany("INSERT INTO k VALUES (?, ?)", fresh)
        return out

    def close(self) -> None:
        self.db.close()


def needed_places(plans: Sequence[Planned], planned: dict[str, NewPlace]) -> list[NewPlace]:
    """The planned places that applied observations use, parents first."""
    wanted: set[str] = set()
    for p in plans:
        for place_id in (p.create.location_id if p.create else None,
                         p.changes.location_id if p.changes else None):
            while place_id in planned and place_id not in wanted:
                wanted.add(place_id)
                place_id = planned[place_id].parent_id
    return [place for pid, place in planned.items() if pid in wanted]


async def apply_plans(
    tx: StoreTx, cis: CIService, actor: Actor, plans: Sequence[Planned],
    places: Sequence[NewPlace], catalog: ProductCatalog | None, source: str,
    at: datetime, reason: str,
) -> int:
    """Write every planned change; returns how many history entries were written."""
    stamp = Provenance(source=source, at=at, run_id=actor.run_id)
    history: list[HistoryEntry] = []
    written = 0

    async def flush(force: bool = False) -> None:
        nonlocal written
        if history and (force or len(history) >= HISTORY_BATCH):
            await tx.add_history(history)
            written += len(history)
            history.clear()

    for place in places:
        _, entries = await cis.create_in(
            tx, actor, NewCI(class_name=place.class_name, name=place.name, state=IN_USE,
                             location_id=place.parent_id),
            ci_id=place.id, provenance={"name": stamp, "location": stamp}, reason=reason)
        history += entries
    products_made: set[str] = set()
    for p in plans:
        if p.outcome in (Outcome.INVALID, Outcome.AMBIGUOUS) or not p.writes:
            continue
        if p.create is not None:
            assert p.ci_id is not None
            device, entries = await cis.create_in(tx, actor, p.create, ci_id=p.ci_id,
                                                  provenance=p.provenance, reason=reason)
            history += entries
        else:
            assert p.before is not None
            device = p.before
            if p.changes is not None:
                device, entries = await cis.update_in(tx, actor, device, p.changes, reason,
                                                      provenance=p.provenance)
                history += entries
            if p.transition is not None:
                device, entries = await cis.transition_in(
                    tx, actor, device, p.transition, reason, p.provenance.get("state"))
                history += entries
        if p.software is not None and catalog is not None:
            for name, version, publisher in p.software.add:
                product_id = catalog.product_id(name, publisher)
                key = name.strip().casefold()
                if key in catalog.planned and product_id not in products_made:
                    _, entries = await cis.create_in(
                        tx, actor, NewCI(class_name="SoftwareProduct", name=name.strip(),
                                         state=IN_USE,
                                         attributes={"vendor": publisher} if publisher else {}),
                        ci_id=product_id, provenance={"name": stamp}, reason=reason)
                    history += entries
                    products_made.add(product_id)
                attributes = {k: v for k, v in (("software_version", version),
                                                ("vendor", publisher)) if v}
                inst, entries = await cis.create_in(
                    tx, actor, NewCI(class_name="SoftwareInstallation", name=name.strip(),
                                     state=IN_USE, attributes=attributes),
                    provenance={"name": stamp}, reason=reason)
                history += entries
                history.append(await cis.relate_in(tx, actor, inst, INSTALLED_ON, device.id))
                history.append(await cis.relate_in(tx, actor, inst, INSTANCE_OF, product_id))
            for inst_id in p.software.retire:
                current = await tx.get_ci(inst_id)
                if current is None:
                    continue
                for rel in await tx.active_relationships(inst_id, "out", [INSTALLED_ON]):
                    history.append(await cis.end_in(tx, actor, rel, reason))
                if RETIRED in cis.registry.allowed_transitions(current.state):
                    _, entries = await cis.transition_in(tx, actor, current, RETIRED, reason)
                    history += entries
        await flush()
    await flush(force=True)
    return written
