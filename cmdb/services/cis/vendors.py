"""Stored manufacturers kept as the vendor table names them.

Every road in writes a manufacturer in its canonical form (imports identify and compare
the observed text read through ``schema/vendors.yaml``, every write goes through
:meth:`CIService.canonical_maker`), so a serial number is unique per vendor and the
store's serial index finds it whoever wrote 戴尔 or "Dell Inc.". What was stored before
a name was known (an older CMDB, a vendor or alias added since) is brought in line by
:func:`align_manufacturers` when the CMDB opens: only when the table has changed since
the last alignment (its fingerprint is kept in the store, a :class:`VendorAlignment`),
each CI changed with a history entry (channel ``system``) and the text it had kept in
the provenance of its manufacturer. A CI whose serial another CI already holds under
the canonical name is left as it was and reported: two records of one machine are for
a person to merge.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import islice

from cmdb.model.queries import CISelection
from cmdb.model.records import (
    CI,
    Actor,
    Channel,
    FieldChange,
    HistoryAction,
    construct,
    now,
)
from cmdb.model.registry import Registry
from cmdb.services.cis.history import ci_entry
from cmdb.services.cis.records import VendorAlignment, keep_alignment, last_alignment
from cmdb.store.base import Store, StoreTx

log = logging.getLogger(__name__)

BATCH = 500
ACTOR = Actor(name="vendor table", channel=Channel.SYSTEM)
REASON = "manufacturer name aligned with the vendor table (schema/vendors.yaml)"


@dataclass
class Alignment:
    """What one alignment did: CIs changed, and those left because of a clash."""

    fingerprint: str
    aligned: int = 0
    #: (CI id, its manufacturer, the CI that holds its serial under the canonical name)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)
    skipped: bool = False


async def align_manufacturers(store: Store, registry: Registry, *,
                              force: bool = False) -> Alignment:
    """Store every CI's manufacturer as the vendor table names it, if the table changed
    since the last alignment (``force``: whatever the table)."""
    vendors = registry.vendors
    result = Alignment(vendors.fingerprint)
    kept = await last_alignment(store)
    if kept is not None and kept.fingerprint == result.fingerprint and not force:
        result.skipped = True
        return result
    wrong = [ci_id for ci_id, attrs in await store.attribute_values(["manufacturer"])
             if isinstance(maker := attrs.get("manufacturer"), str)
             and vendors.normalise(maker) != maker]
    if not wrong and kept is None and not await store.count_cis(CISelection()):
        return result  # nothing stored yet: a restore may bring its own record of this
    it = iter(wrong)
    while batch := list(islice(it, BATCH)):
        async def work(tx: StoreTx, batch: list[str] = batch) -> None:
            await _align(tx, registry, batch, result)

        await store.write(work)
    for ci_id, maker, holder in result.conflicts:
        log.warning("manufacturer %r of CI %s left as written: CI %s holds its serial "
                    "number under %r", maker, ci_id, holder, vendors.normalise(maker))

    async def note(tx: StoreTx) -> None:
        await keep_alignment(tx, VendorAlignment(result.fingerprint, result.aligned,
                                                 tuple(result.conflicts)))

    await store.write(note)
    return result


async def _align(tx: StoreTx, registry: Registry, ids: list[str], result: Alignment) -> None:
    vendors = registry.vendors
    at = now()
    changes: list[tuple[CI, int]] = []
    history = []
    for before in (await tx.get_cis(ids)).values():
        maker = before.attributes.get("manufacturer")
        if not isinstance(maker, str) or vendors.normalise(maker) == maker:
            continue  # changed since it was read
        canonical = vendors.normalise(maker)
        after = construct(CI, {**before.__dict__,
                               "attributes": {**before.attributes, "manufacturer": canonical},
                               "version": before.version + 1, "updated_at": at})
        key = after.serial_key
        if key is not None and key != before.serial_key:
            holders = [i for i in (await tx.holders("serial_key", [key])).get(key, [])
                       if i != before.id]
            if holders:
                result.conflicts.append((before.id, maker, holders[0]))
                continue
        provenance = dict(before.provenance)
        set_by = provenance.get("manufacturer")
        if set_by is not None and set_by.observed is None:
            provenance["manufacturer"] = set_by.model_copy(update={"observed": maker})
        after.provenance = provenance
        # One at a time: the next CI's serial check must see this one's new key.
        await tx.update_ci(after, before.version)
        changes.append((after, before.version))
        history.append(ci_entry(ACTOR, HistoryAction.UPDATED, after,
                                [FieldChange("attributes.manufacturer", maker, canonical)],
                                REASON))
    result.aligned += len(changes)
    if history:
        await tx.add_history(history)
