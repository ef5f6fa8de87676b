"""Applying a reconciled import in one unit of work.

:func:`apply_plans` runs inside ``store.write``: the places and software products
the run needs, then each observation's create / update / transition / software
change under the CI service's rules, written in batches by a
:class:`~cmdb.services.cis.bulk.BulkWriter`, every change attributed to the import
run. Reconciliation compared facts (:class:`~cmdb.model.queries.CIFacts`); the whole
records of the CIs that change are read here, a batch at a time, inside the unit of
work. Updates are compare-and-set on the version reconciliation read, and a CI moved
since then is refused too, so a CI someone changed meanwhile fails the whole run
(nothing is written).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cmdb.errors import ConflictError, NotFoundError, VersionConflictError
from cmdb.model.definitions import Role
from cmdb.model.records import CI, Actor, Provenance, Relationship
from cmdb.services.cis.bulk import BulkWriter
from cmdb.services.cis.inputs import NewCI
from cmdb.services.cis.places import NewPlace
from cmdb.services.cis.service import CIService
from cmdb.services.imports.outcomes import Outcome, Planned
from cmdb.services.imports.parties import NewParty
from cmdb.services.imports.software import ProductCatalog
from cmdb.store.base import StoreTx

#: Plans whose CIs are read (and checked) together.
READ_BATCH = 1000


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
    at: datetime, reason: str, parties: Sequence[NewParty] = (),
) -> int:
    """Write every planned change; returns how many history entries were written."""
    stamp = Provenance(source=source, at=at, run_id=actor.run_id)
    bulk = BulkWriter(tx, cis, actor, reason)
    in_use = cis.registry.in_use_state
    for place in places:
        await bulk.create(NewCI(class_name=place.class_name, name=place.name, state=in_use,
                                location_id=place.parent_id),
                          ci_id=place.id, provenance={"name": stamp, "location": stamp})
    for party in parties:
        await bulk.create(NewCI(class_name=party.class_name, name=party.name, state=in_use),
                          ci_id=party.id, provenance={"name": stamp})
    products_made: set[str] = set()
    todo = [p for p in plans
            if p.outcome not in (Outcome.INVALID, Outcome.AMBIGUOUS) and p.writes]
    for start in range(0, len(todo), READ_BATCH):
        batch = todo[start:start + READ_BATCH]
        current, located = await _as_read(tx, batch, cis.registry.location_type)
        linking: list[tuple[CI, Planned]] = []
        for p in batch:
            if p.create is not None:
                assert p.ci_id is not None
                device = await bulk.create(p.create, ci_id=p.ci_id, provenance=p.provenance,
                                           checked=True)
            else:
                assert p.ci_id is not None
                device = current[p.ci_id]
                if p.changes is not None:
                    device = await bulk.update(device, p.changes, p.provenance,
                                               located.get(device.id, []), checked=True,
                                               fresh=True)
                if p.transition is not None:
                    device = await bulk.transition(device, p.transition,
                                                   p.provenance.get("state"))
            if p.software is not None and catalog is not None:
                products_made = await _software(bulk, p, device, catalog, stamp,
                                                products_made)
            if any(link.writes for link in p.parties):
                linking.append((device, p))
        if linking:
            await _link_parties(bulk, linking, source)
    await bulk.flush()
    return bulk.written


async def _link_parties(bulk: BulkWriter, linking: Sequence[tuple[CI, Planned]],
                        source: str) -> None:
    """Relate each CI to the people and teams its row names, ending the relationship
    each replaces: those the CI has now (read in this unit of work), of the link's type
    and, unless it is single-valued (one owner), set by the same column."""
    types = sorted({link.relationship for _, p in linking for link in p.parties})
    now_of = await bulk.tx.active_relationships_of([ci.id for ci, _ in linking], "out",
                                                   types)
    registry = bulk.cis.registry
    for ci, p in linking:
        rels = now_of.get(ci.id, [])
        done = {(r.type, r.target_id) for r in rels}
        # A party another column of the row names keeps its link.
        wanted = {(link.relationship, link.party_id) for link in p.parties if link.party_id}
        for link in p.parties:
            if not link.writes or link.party_id is None:
                continue
            if (link.relationship, link.party_id) in done:
                continue  # already linked (by hand, or by another column of the row)
            done.add((link.relationship, link.party_id))
            single = registry.relationship_type(link.relationship).single
            mine = [r for r in rels if r.type == link.relationship
                    and (single or r.attributes.get("field") == link.field)]
            for rel in mine:
                if (rel.type, rel.target_id) not in wanted:
                    bulk.end(rel)
            bulk.relate(ci, link.relationship, link.party_id,
                        {"source": source, "field": link.field})


async def _as_read(tx: StoreTx, plans: Sequence[Planned], location: str
                   ) -> tuple[dict[str, CI], dict[str, list[Relationship]]]:
    """The CIs these plans change, read in the unit of work, and the ``location``
    relationships of those they move; refused when one changed or moved since
    reconciliation read it."""
    ids = [p.ci_id for p in plans if p.facts is not None and p.ci_id is not None]
    current = await tx.get_cis(ids) if ids else {}
    moving: list[str] = []
    for p in plans:
        facts = p.facts
        if facts is None:
            continue
        ci = current.get(facts.id)
        if ci is None:
            raise NotFoundError(f"CI {facts.id} ({facts.name}) no longer exists", id=facts.id)
        if (p.changes is not None or p.transition is not None) \
                and ci.version != facts.version:
            raise VersionConflictError(
                f"CI {ci.id} ({ci.name}) changed while the file was imported (version "
                f"{facts.version} was read, it is now {ci.version}); import it again",
                id=ci.id, expectedVersion=facts.version, currentVersion=ci.version)
        if p.changes is not None and "location_id" in p.changes.model_fields_set:
            moving.append(ci.id)
    located = await tx.active_relationships_of(moving, "out", [location]) if moving else {}
    for p in plans:
        if p.facts is not None and p.facts.id in located:
            places = {r.target_id for r in located[p.facts.id]}
            if p.facts.location_id not in places and (places or p.facts.location_id):
                raise ConflictError(
                    f"CI {p.facts.id} ({p.facts.name}) was moved while the file was "
                    "imported; import it again", id=p.facts.id)
    return current, located


async def _software(bulk: BulkWriter, p: Planned, device: CI, catalog: ProductCatalog,
                    stamp: Provenance, products_made: set[str]) -> set[str]:
    """Add the device's new installations (and products) and retire vanished ones."""
    assert p.software is not None
    registry = bulk.cis.registry
    in_use = registry.in_use_state
    for name, version, publisher in p.software.add:
        product_id = catalog.product_id(name, publisher)
        key = name.strip().casefold()
        if key in catalog.planned and product_id not in products_made:
            await bulk.create(
                NewCI(class_name="SoftwareProduct", name=name.strip(), state=in_use,
                      attributes={"vendor": publisher} if publisher else {}),
                ci_id=product_id, provenance={"name": stamp})
            products_made.add(product_id)
        attributes = {k: v for k, v in (("software_version", version),
                                        ("vendor", publisher)) if v}
        inst = await bulk.create(
            NewCI(class_name="SoftwareInstallation", name=name.strip(), state=in_use,
                  attributes=attributes), provenance={"name": stamp})
        bulk.relate(inst, registry.role_type(Role.INSTALLED_ON), device.id)
        bulk.relate(inst, registry.role_type(Role.INSTANCE_OF), product_id)
    if p.software.retire:
        await _retire(bulk, p.software.retire)
    return products_made


async def _retire(bulk: BulkWriter, installations: Sequence[str]) -> None:
    """Vanished software: each installation's link to its device (``role: installed_on``)
    ends and it is retired."""
    registry = bulk.cis.registry
    current = await bulk.tx.get_cis(installations)
    links = await bulk.tx.active_relationships_of(
        list(current), "out", [registry.role_type(Role.INSTALLED_ON)])
    for inst_id, inst in current.items():
        for rel in links.get(inst_id, []):
            bulk.end(rel)
        if registry.retired_state in registry.allowed_transitions(inst.state):
            await bulk.transition(inst, registry.retired_state, None)
