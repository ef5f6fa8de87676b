"""Applying a reconciled import in one unit of work, and the in-file duplicate ledger.

:func:`apply_plans` runs inside ``store.write``: the places and software products
the run needs, then each observation's create / update / transition / software
change under the CI service's rules, written in batches by a
:class:`~cmdb.services.bulk.BulkWriter`, every change attributed to the import
run. Updates are compare-and-set on the version reconciliation read, so a CI
someone changed meanwhile fails the whole run (nothing is written).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from cmdb.model.records import Actor, Provenance
from cmdb.services.bulk import BulkWriter
from cmdb.services.cis import CIService
from cmdb.services.inputs import NewCI
from cmdb.services.outcomes import Outcome, Planned
from cmdb.services.places import NewPlace
from cmdb.services.software import INSTALLED_ON, INSTANCE_OF, ProductCatalog
from cmdb.store.base import StoreTx

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
    bulk = BulkWriter(tx, cis, actor, reason)
    for place in places:
        await bulk.create(NewCI(class_name=place.class_name, name=place.name, state=IN_USE,
                                location_id=place.parent_id),
                          ci_id=place.id, provenance={"name": stamp, "location": stamp})
    products_made: set[str] = set()
    for p in plans:
        if p.outcome in (Outcome.INVALID, Outcome.AMBIGUOUS) or not p.writes:
            continue
        if p.create is not None:
            assert p.ci_id is not None
            device = await bulk.create(p.create, ci_id=p.ci_id, provenance=p.provenance)
        else:
            assert p.before is not None
            device = p.before
            if p.changes is not None:
                device = await bulk.update(device, p.changes, p.provenance, p.located)
            if p.transition is not None:
                device = await bulk.transition(device, p.transition, p.provenance.get("state"))
        if p.software is not None and catalog is not None:
            for name, version, publisher in p.software.add:
                product_id = catalog.product_id(name, publisher)
                key = name.strip().casefold()
                if key in catalog.planned and product_id not in products_made:
                    await bulk.create(
                        NewCI(class_name="SoftwareProduct", name=name.strip(), state=IN_USE,
                              attributes={"vendor": publisher} if publisher else {}),
                        ci_id=product_id, provenance={"name": stamp})
                    products_made.add(product_id)
                attributes = {k: v for k, v in (("software_version", version),
                                                ("vendor", publisher)) if v}
                inst = await bulk.create(
                    NewCI(class_name="SoftwareInstallation", name=name.strip(), state=IN_USE,
                          attributes=attributes), provenance={"name": stamp})
                bulk.relate(inst, INSTALLED_ON, device.id)
                bulk.relate(inst, INSTANCE_OF, product_id)
            if p.software.retire:
                await _retire(bulk, p.software.retire)
    await bulk.flush()
    return bulk.written


async def _retire(bulk: BulkWriter, installations: Sequence[str]) -> None:
    """Vanished software: each installation's ``INSTALLED_ON`` ends and it is retired."""
    current = await bulk.tx.get_cis(installations)
    links = await bulk.tx.active_relationships_of(list(current), "out", [INSTALLED_ON])
    for inst_id, inst in current.items():
        for rel in links.get(inst_id, []):
            bulk.end(rel)
        if RETIRED in bulk.cis.registry.allowed_transitions(inst.state):
            await bulk.transition(inst, RETIRED, None)
