"""One chunk of an import's file, identified and reconciled: the hot path of a run.

Per chunk: the in-file duplicate check (:class:`~cmdb.services.imports.ledger.KeyLedger`),
one store question per identifying rule that returns the matched CIs' facts (the
columns compared, their place: :class:`~cmdb.model.queries.CIFacts`, not whole
records), the places' names, comparison in memory, then the identifiers an update
would take from another CI and the software installed. Nothing is written here: the
plans go back to the run (:mod:`cmdb.services.imports.service`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from cmdb.model.queries import CIFacts
from cmdb.model.records import new_id, serial_key
from cmdb.model.registry import Registry
from cmdb.services.imports.identify import HybridLookup, identify, offered_keys
from cmdb.services.imports.ledger import KeyLedger
from cmdb.services.imports.outcomes import Outcome, Planned
from cmdb.services.imports.reconcile import Reconciler, compared_attributes
from cmdb.services.imports.software import current_installations, reconcile_software
from cmdb.services.imports.sources import Rule
from cmdb.store.base import Store
from importers import Observation, RecordError


def chunks(items: Iterable[Observation | RecordError], size: int
           ) -> Iterator[list[Observation | RecordError]]:
    """The parsed records, ``size`` at a time."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class ChunkPlanner:
    """Plans the chunks of one run: what each record of the file would change."""

    def __init__(self, store: Store, registry: Registry, rules: tuple[Rule, ...],
                 lookup: HybridLookup, ledger: KeyLedger, reconciler: Reconciler) -> None:
        self.store = store
        self.registry = registry
        #: The identification rules, in order (``sources.yaml``).
        self.rules = rules
        self.lookup = lookup
        self.ledger = ledger
        self.reconciler = reconciler

    async def plan(self, chunk: list[Observation | RecordError]) -> list[Planned]:
        """Identify and reconcile one chunk of the file, in file order."""
        rules, lookup, ledger = self.rules, self.lookup, self.ledger
        reconciler = self.reconciler
        observations = [o for o in chunk if isinstance(o, Observation)]
        vendors = self.registry.vendors  # serials are read within the vendor table's name
        keys = [offered_keys(o, rules, vendors) for o in observations]
        compared = lookup.point.attributes = compared_attributes(observations,
                                                                 reconciler.source)
        idents = await identify(observations, rules, lookup, keys)
        lookup.point.cache.clear()  # values rarely repeat across chunks: keep memory flat
        claims = ledger.claim([
            (offered, ident.ci_ids[0] if ident.ci_ids else None, o.locator.line)
            for o, ident, offered in zip(observations, idents, keys, strict=True)])
        matched = sorted({i.ci_id for i in idents if i.ci_id})
        facts = lookup.point.take(matched)
        missing = [i for i in matched if i not in facts]
        if missing:
            facts.update((i, found[0]) for i, found in
                         (await self.store.find_ci_facts("id", missing, compared)).items())
        lookup.point.found.clear()
        places = reconciler.places
        await places.expect(len({tuple(o.location) for o in observations if o.location}))
        names = await places.names(sorted({f.location_id for f in facts.values()
                                           if f.location_id}))
        plans: list[Planned] = []
        for o, ident, dup in zip(observations, idents, claims, strict=True):
            if dup is not None:
                what, line = dup
                kind, _, value = what.partition(":")
                same = "the same CI" if kind == "ci" else f"the same {kind} {value!r}"
                plans.append(Planned(o.locator.line, o.locator.record, Outcome.INVALID, o,
                                     reason=f"duplicate: {same} as line {line} of this file",
                                     field=None if kind == "ci" else kind))
                continue
            ci = facts.get(ident.ci_id) if ident.ci_id else None
            place = ci.location_id if ci else None
            location = (place, names[place]) if place and place in names else None
            planned = await reconciler.plan(o, ident, ci, location)
            planned.rule = ident.rule
            if planned.create is not None:
                planned.ci_id = new_id()
            plans.append(planned)
        await _taken_identifiers(plans, lookup)
        software = [p for p in plans if p.software and p.facts is not None]
        if software:
            installed = await current_installations(
                self.store, self.registry, [p.ci_id for p in software if p.ci_id])
            for p in software:
                reconcile_software(p, installed.get(p.ci_id or "", []), reconciler.source)
                if p.differences and p.outcome is Outcome.MATCHED:
                    p.outcome = Outcome.MATCHED_WITH_DIFFERENCES
        for p in plans:
            if p.create is not None and p.software is not None:
                reconcile_software(p, [], reconciler.source)
        if len(plans) < len(chunk):
            plans += _invalid_records([e for e in chunk if isinstance(e, RecordError)])
            plans.sort(key=lambda p: (p.record or 0, p.line or 0))
        return plans


async def _taken_identifiers(plans: list[Planned], lookup: HybridLookup) -> None:
    """An update giving a CI an asset tag or serial another CI holds is INVALID."""
    checks: tuple[tuple[str, Rule], ...] = (("asset_tag", "asset_tag"),
                                            ("serial_number", "serial_number"))
    for field, rule in checks:
        wanted: dict[str, list[Planned]] = {}
        for p in plans:
            if p.changes is not None and field in p.changes.model_fields_set \
                    and p.facts is not None:
                key = _key_after(p.facts, p.changes.asset_tag, p.changes.serial_number,
                                 p.changes.attributes, rule)
                if key:
                    wanted.setdefault(key, []).append(p)
        if not wanted:
            continue
        found = await lookup.point.candidates(rule, sorted(wanted))
        lookup.point.found.clear()
        for key, holders in found.items():
            for p in wanted[key]:
                others = sorted(holders - {p.ci_id or ""})
                if others:
                    p.outcome, p.field = Outcome.INVALID, field
                    p.reason = (f"{field} {getattr(p.changes, field)!r} is already "
                                f"CI {others[0]}'s")
                    p.changes = p.transition = p.software = None


def _key_after(facts: CIFacts, tag: str | None, serial: str | None,
               attributes: dict[str, Any] | None, rule: Rule) -> str | None:
    """The asset tag or serial key a CI holds once these changes are made."""
    if rule == "asset_tag":
        return tag
    maker = (attributes or {}).get("manufacturer", facts.attributes.get("manufacturer"))
    return serial_key(maker if isinstance(maker, str) else None, serial)


def _invalid_records(errors: list[RecordError]) -> list[Planned]:
    """One INVALID outcome per bad record (a record may have several bad fields)."""
    grouped: dict[tuple[int | None, int | None], list[RecordError]] = {}
    for e in errors:
        grouped.setdefault((e.line, e.record), []).append(e)
    return [Planned(line, record, Outcome.INVALID, reason="; ".join(map(_say, errs)),
                    field=errs[0].field) for (line, record), errs in grouped.items()]


def _say(e: RecordError) -> str:
    """A record error without its file and line (the outcome has those)."""
    where = f"column {e.column!r}: " if e.column else ""
    shown = f" (value {e.value!r})" if e.value is not None else ""
    return f"{where}{e.message}{shown}"
