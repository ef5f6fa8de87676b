"""Recording sightings into campaigns: the one road scans, the asset page and discovery
imports all take (see :mod:`cmdb.services.audit.sightings` for the rules).

A batch is one unit of work: its new sightings, the findings they update, the progress
counters and the ``last_audited_at`` / ``last_audited_campaign`` of verified assets
commit together or not at all. A sighting already recorded (same campaign, asset tag
or device, place, time and road) is skipped, so importing a file twice adds nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cmdb.errors import ValidationError
from cmdb.model.clock import Clock
from cmdb.model.records import CI, Actor, HistoryAction, HistoryEntry, now
from cmdb.model.registry import Registry
from cmdb.services.audit import findings as fd
from cmdb.services.audit import records as rec
from cmdb.services.audit import sightings as sg
from cmdb.services.audit.records import Finding, Sighting
from cmdb.services.audit.values import FindingType
from cmdb.services.cis.history import ci_changes, ci_entry
from cmdb.services.cis.places import PlaceResolver, PlaceRules
from cmdb.services.cis.service import CIService
from cmdb.store.base import Store, StoreTx
from importers.normalise import split_location

BATCH = 2000
UNKNOWN_PLACE_HINT = "register it first, or give a registered place (its path or id)"


@dataclass
class RecordResult:
    """What a batch of sightings did: new, already known, outside every open campaign."""

    recorded: int = 0
    duplicates: int = 0
    unscoped: int = 0
    sightings: list[Sighting] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


class SightingRecorder:
    """Records sightings and discovery outcomes into the open campaigns, and answers
    where a place path points."""

    def __init__(self, store: Store, registry: Registry, cis: CIService,
                 clock: Clock | None = None) -> None:
        self.store = store
        self.registry = registry
        self.cis = cis
        #: Sightings stamped without an offset were seen in this clock's zone.
        self.clock = clock or Clock()

    async def scopes(self) -> list[sg.Scope]:
        """The open campaigns, ready to place sightings in."""
        campaigns, _ = await rec.find_campaigns(self.store, "open", first=500)
        progress = await rec.get_progress(self.store, [c.id for c in campaigns])
        out = []
        for campaign in campaigns:
            places = progress[campaign.id].places if campaign.id in progress else {}
            out.append(sg.Scope(campaign, {p: t.parent for p, t in places.items() if p},
                                frozenset(campaign.class_set)))
        return out

    # ---- places ---------------------------------------------------------------
    async def resolve_place(self, text: str | None) -> str | None:
        """A place id from an id or a path such as ``北京总部/3楼机房/A01机柜``."""
        if not text or not text.strip():
            return None
        return (await self.resolve_places([text]))[text]

    async def resolve_places(self, texts: Sequence[str]) -> dict[str, str | None]:
        """:meth:`resolve_place` for many texts (``None``: no registered place)."""
        answers = await self.place_answers(texts)
        return {t: answers[t][0] if t in answers else None for t in texts}

    async def place_answers(self, texts: Sequence[str]
                            ) -> dict[str, tuple[str | None, str | None]]:
        """For each text, ``(place id, None)``, or ``(None, why)`` when it names no
        registered place (unknown, ambiguous, disposed, or a CI that is not a place).

        A text is a place id, or a path resolved as imports resolve them (the same
        separators: ``/``, ``／``, ``\\``, ``>``; stray spaces ignored): ids in one read,
        paths through one :class:`~cmdb.services.cis.places.PlaceResolver` (which reads the
        place hierarchy once when there are many)."""
        wanted = {t: t.strip() for t in dict.fromkeys(texts) if t and t.strip()}
        ids = await self.store.get_cis(list(set(wanted.values())))
        resolver = PlaceResolver(self.store, self.registry, PlaceRules(),
                                 unknown_hint=UNKNOWN_PLACE_HINT)
        out: dict[str, tuple[str | None, str | None]] = {}
        for text, clean in wanted.items():
            found = ids.get(clean)
            if found is not None:
                if found.class_name not in resolver.place_classes:
                    out[text] = (None, f"{clean} is {found.class_name} {found.name!r}, "
                                       "not a place")
                elif self.registry.is_terminal(found.state):
                    out[text] = (None, f"place {found.name!r} ({clean}) is {found.state}")
                else:
                    out[text] = (clean, None)
                continue
            resolved = await resolver.resolve(split_location(clean), create=False)
            out[text] = (resolved.place_id, resolved.error)
        return out

    async def _sighting_places(self, sightings: Sequence[sg.SightingInput]
                               ) -> dict[str, str | None]:
        """The place id of each sighting's place text; a sighting naming a place that is
        not registered refuses them all, naming the place (and the line of a file)."""
        answers = await self.place_answers([s.place for s in sightings if s.place])
        refused: list[tuple[sg.SightingInput, str]] = []
        for s in sightings:
            why = answers[s.place][1] if s.place and s.place in answers else None
            if why is not None:
                refused.append((s, why))
        if refused:
            said = [f"{s.where + ': ' if s.where else ''}unknown place "
                    f"{(s.place or '').strip()!r}: {why}" for s, why in refused]
            first = refused[0][0]
            message = said[0] if len(said) == 1 else (
                f"{len(said)} sightings name no registered place, nothing recorded; "
                + "; ".join(said[:5]))
            raise ValidationError(message, field="place", place=(first.place or "").strip(),
                                  where=first.where, errors=said[:50])
        return {t: a[0] for t, a in answers.items()}

    # ---- recording ------------------------------------------------------------
    async def record_sightings(self, actor: Actor, sightings: Sequence[sg.SightingInput],
                               source: sg.Source, run_id: str | None = None,
                               campaign_id: str | None = None) -> RecordResult:
        """Record assets seen by tag (scan files, the asset page), in one unit of work.
        With ``campaign_id`` only that campaign takes them (the others' scopes count as
        outside)."""
        for s in sightings:  # all checked before anything is written
            sg.check_sighting(s)
        stamp = now()
        places = await self._sighting_places(sightings)  # before anything is written
        tags = list(dict.fromkeys(s.asset_tag.strip() for s in sightings))
        by_tag: dict[str, CI] = {}
        for i in range(0, len(tags), BATCH):
            for tag, found in (await self.store.find_cis("asset_tag", tags[i:i + BATCH])).items():
                by_tag[tag] = found[0]
        items = []
        for s in sightings:
            tag = s.asset_tag.strip()
            ci = by_tag.get(tag)
            items.append((Sighting(
                asset_tag=tag, identity=tag, place_text=(s.place or "").strip() or None,
                place_id=places.get(s.place) if s.place else None,
                condition=s.condition, note=s.note, auditor=s.auditor or actor.name,
                seen_at=sg.iso(s.seen_at, stamp, self.clock), source=source, run_id=run_id,
                recorded_by=actor.name, candidates=(ci.id,) if ci else ()), ci))
        return await self._record(actor, items, campaign_id)

    async def record_discovery(self, actor: Actor, run_id: str | None,
                               outcomes: Sequence[sg.DiscoveryOutcome],
                               campaign_id: str | None = None) -> RecordResult:
        """Count what a discovery import saw during open campaigns ("seen by discovery")."""
        stamp = now()
        ids = list({i for o in outcomes for i in o.ci_ids})
        found = await self.store.get_cis(ids) if ids else {}
        items = []
        for o in outcomes:
            ci = found.get(o.ci_ids[0]) if len(o.ci_ids) == 1 else None
            items.append((Sighting(
                asset_tag=ci.asset_tag if ci else None, identity=o.identity,
                note=o.status, auditor=o.source, seen_at=sg.iso(o.seen_at, stamp, self.clock),
                source="discovery", run_id=run_id, recorded_by=actor.name,
                differences=tuple(o.differences),
                candidate_classes=tuple(found[i].class_name for i in o.ci_ids if i in found),
                candidates=tuple(o.ci_ids)), ci))
        return await self._record(actor, items, campaign_id)

    async def _record(self, actor: Actor, items: list[tuple[Sighting, CI | None]],
                      campaign_id: str | None = None) -> RecordResult:
        """Record ``items`` (a sighting yet without its id and campaign, and the CI it is
        about when it is one) in one unit of work."""
        scopes = [s for s in await self.scopes() if campaign_id in (None, s.id)]
        ci_ids = list({i for s, _ci in items for i in s.candidates})
        registered: dict[str, str | None] = {}
        for i in range(0, len(ci_ids), BATCH):
            rels = await self.store.relationships_of(ci_ids[i:i + BATCH], "out",
                                                     [self.registry.location_type])
            for ci_id, found in rels.items():
                registered[ci_id] = found[0].target_id if found else None
        placed: list[tuple[Sighting, sg.Scope | None]] = []
        for s, ci in items:
            home = registered.get(s.candidates[0]) if s.candidates else None
            scope = choose_scope(scopes, ci, s, home, self.clock)
            subject = s.candidates[0] if len(s.candidates) == 1 else s.identity
            sid = sg.sighting_id(scope.id if scope else None, subject,
                                 s.place_id or s.place_text, s.seen_at, s.source)
            placed.append((dataclasses.replace(s, id=sid,
                                               campaign_id=scope.id if scope else None), scope))
        result = RecordResult()

        async def work(tx: StoreTx) -> RecordResult:
            out = RecordResult()
            known = await rec.get_sightings(tx, [s.id for s, _scope in placed])
            fresh: dict[str, tuple[Sighting, sg.Scope | None]] = {}
            for s, scope in placed:
                if s.id in known or s.id in fresh:
                    out.duplicates += 1
                else:
                    fresh[s.id] = (s, scope)
            campaign_ids = list({c.id for _s, c in fresh.values() if c is not None})
            progress = await rec.get_progress(tx, campaign_ids)
            versions = {k: v.version for k, v in progress.items()}
            drafts: list[fd.Draft] = []
            for s, scope in fresh.values():
                if scope is None:
                    out.unscoped += 1
                else:
                    drafts += sg.drafts_for(scope, s, registered)
            await rec.add(tx, [s for s, _scope in fresh.values()])
            out.findings = await fd.apply_drafts(tx, drafts, progress)
            await self._stamp_verified(tx, actor, out.findings, scopes)
            await fd.save_progress(tx, progress, versions)
            out.recorded = len(fresh)
            out.sightings = [s for s, _scope in fresh.values()]
            return out

        if placed:
            result = await self.store.write(work)
        return result

    async def _stamp_verified(self, tx: StoreTx, actor: Actor, findings: list[Finding],
                              scopes: list[sg.Scope]) -> None:
        """``last_audited_at`` and ``last_audited_campaign`` on every CI just verified."""
        names = {s.id: s.campaign.name for s in scopes}
        verified = {f.ci_id: f for f in findings
                    if f.type is FindingType.VERIFIED and f.ci_id}
        if not verified:
            return
        found = await tx.get_cis(list(verified))
        history: list[HistoryEntry] = []
        updates: list[tuple[CI, int]] = []
        for ci_id, finding in verified.items():
            before = found.get(ci_id)
            if before is None:
                continue
            at = max(e.at or "" for e in finding.evidence)
            campaign = names.get(finding.campaign_id, "")
            # Stamped once per campaign (when first verified in it): later scans of the
            # same asset in the same campaign add evidence to the finding, not versions.
            if before.attributes.get("last_audited_campaign") == campaign \
                    or str(before.attributes.get("last_audited_at") or "") >= at:
                continue
            attrs = {**before.attributes, "last_audited_at": at,
                     "last_audited_campaign": campaign}
            after = before.model_copy(update={"attributes": attrs, "version": before.version + 1,
                                              "updated_at": now()})
            updates.append((after, before.version))
            history.append(ci_entry(actor, HistoryAction.UPDATED, after,
                                    ci_changes(before, after),
                                    f"seen where registered in audit campaign "
                                    f"{campaign}"))
        await tx.update_cis(updates)
        await tx.add_history(history)

    async def sightings_of(self, ci_id: str, first: int = 5) -> list[Sighting]:
        """The latest sightings of a CI (for its page: last seen, by whom, which campaign)."""
        return await rec.sightings_of(self.store, ci_id, first)


def choose_scope(scopes: list[sg.Scope], ci: CI | None, s: Sighting,
                 home: str | None, clock: Clock) -> sg.Scope | None:
    """The open campaign a sighting belongs to: its place or the asset's home is in scope
    (discovery: the asset's home, within the campaign's period, in days of the zone)."""
    if s.source == "discovery":
        at = clock.local(s.seen_at)
        live = [s for s in scopes if s.in_period(at)]
        if ci is None:
            return live[0] if len(live) == 1 else None
        return sg.choose_scope(live, ci.class_name, home)
    return sg.choose_scope(scopes, ci.class_name if ci else None, s.place_id, home)


def scan_file_sightings(path: Path, clock: Clock | None = None) -> list[sg.SightingInput]:
    """Read an inspection-scan file whole; any bad record refuses the file (nothing recorded).

    Uses the ``scans`` importer, so English and Chinese headers, GBK and BOMs work; times
    without an offset are read in ``clock``'s zone.
    """
    from importers import ImportFileError, ParseOptions, RecordError, get_importer

    out: list[sg.SightingInput] = []
    errors: list[str] = []
    try:
        options = ParseOptions(zone=(clock or Clock()).zone)
        for item in get_importer("scans").run(path, options=options):
            if isinstance(item, RecordError):
                errors.append(str(item))
                continue
            if not item.asset_tag:
                errors.append(f"{item.locator.file} line {item.locator.line}: no asset tag")
                continue
            out.append(sg.SightingInput(
                asset_tag=item.asset_tag, place="/".join(item.location) or None,
                condition=item.condition, note=item.note, seen_at=item.seen_at,
                auditor=item.auditor, where=f"{item.locator.file} line {item.locator.line}"))
    except ImportFileError as exc:
        raise ValidationError(f"{path.name}: {exc.message}", field="file") from exc
    if errors:
        raise ValidationError(f"{path.name}: {len(errors)} bad records, nothing recorded; "
                              + "; ".join(errors[:5]), field="file", errors=errors[:50])
    return out
