"""Audit findings: what a campaign found when it compared sightings with the register.

A finding (:class:`~cmdb.services.audit.records.Finding`) belongs to its campaign; its
id is derived from what it is about (campaign, type family, CI or tag), so seeing an
asset twice updates one finding instead of adding a second; each finding keeps its
evidence (sighting id, who, when, from which road).

Progress per place (registered / seen / verified / open findings) is kept in one small
:class:`~cmdb.services.audit.records.Progress` record per campaign, moved by the
difference each finding change makes, so the campaign page reads it in one call however
big the campaign is.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cmdb.model.records import now
from cmdb.services.audit import records as rec
from cmdb.services.audit.records import Finding, Progress
from cmdb.services.audit.values import Evidence, FindingStatus, FindingType, PlaceTally, Resolution
from cmdb.store.base import StoreTx

MAX_EVIDENCE = 20

#: Which resolutions make sense for which finding type.
ALLOWED: dict[FindingType, tuple[Resolution, ...]] = {
    FindingType.MISPLACED: (Resolution.ACCEPT_OBSERVED, Resolution.KEEP_REGISTERED,
                            Resolution.MARK_LOST),
    FindingType.ATTRIBUTE_MISMATCH: (Resolution.ACCEPT_OBSERVED, Resolution.KEEP_REGISTERED),
    FindingType.UNREGISTERED: (Resolution.REGISTER_NEW, Resolution.KEEP_REGISTERED),
    FindingType.AMBIGUOUS: (Resolution.MERGE_DUPLICATES, Resolution.KEEP_REGISTERED),
    FindingType.DUPLICATE: (Resolution.MERGE_DUPLICATES, Resolution.KEEP_REGISTERED),
    FindingType.MISSING: (Resolution.MARK_LOST, Resolution.KEEP_REGISTERED),
    FindingType.VERIFIED: (),
}
PRESENCE = (FindingType.VERIFIED, FindingType.MISPLACED, FindingType.MISSING)
#: The types a finding needing a decision can have.
OPEN_TYPES = tuple(t for t in FindingType if t is not FindingType.VERIFIED)


def finding_id(campaign_id: str, family: str, subject: str) -> str:
    """The stable id of the finding about ``subject`` (a CI id, a tag) in a campaign."""
    digest = hashlib.sha256(f"{campaign_id}\x1f{family}\x1f{subject}".encode()).hexdigest()
    return "f" + digest[:23]


@dataclass
class Draft:
    """A finding as the evaluation of one sighting proposes it: what it is about, and
    what its type adds (the fields of :class:`~cmdb.services.audit.records.Finding`)."""

    campaign_id: str
    type: FindingType
    subject: str
    place_id: str | None
    evidence: Evidence
    ci_id: str | None = None
    asset_tag: str | None = None
    identity: str | None = None
    candidates: tuple[str, ...] = ()
    registered_place_id: str | None = None
    seen_place_id: str | None = None
    seen_place: str | None = None
    field: str | None = None
    registered: Any = None
    observed: Any = None
    registered_from: str | None = None

    @property
    def family(self) -> str:
        if self.type in PRESENCE:
            return "presence"
        if self.type is FindingType.ATTRIBUTE_MISMATCH:
            return "mismatch:" + str(self.field)
        return self.type.value

    @property
    def id(self) -> str:
        return finding_id(self.campaign_id, self.family, self.subject)

    def details(self) -> dict[str, Any]:
        """What the type adds, as :class:`Finding` fields."""
        return {"identity": self.identity, "candidates": self.candidates,
                "registered_place_id": self.registered_place_id,
                "seen_place_id": self.seen_place_id, "seen_place": self.seen_place,
                "field": self.field, "registered": self.registered,
                "observed": self.observed, "registered_from": self.registered_from}


def status_of(type_: FindingType) -> FindingStatus:
    return FindingStatus.OK if type_ is FindingType.VERIFIED else FindingStatus.OPEN


def contribution(finding: Finding | None) -> tuple[str | None, tuple[int, int, int]]:
    """What a finding adds to its place's (seen, verified, open) counters."""
    if finding is None:
        return None, (0, 0, 0)
    t = finding.type
    seen = int(t in (FindingType.VERIFIED, FindingType.MISPLACED))
    return finding.place_id, (seen, int(t is FindingType.VERIFIED),
                              int(finding.status is FindingStatus.OPEN))


def move_progress(places: dict[str, PlaceTally], before: Finding | None,
                  after: Finding | None) -> None:
    """Apply the difference between a finding's old and new state to the counters."""
    for finding, sign in ((before, -1), (after, 1)):
        place, (seen, verified, open_) = contribution(finding)
        if finding is None:
            continue
        row = places.setdefault(place or "", PlaceTally())
        row.seen += sign * seen
        row.verified += sign * verified
        row.open += sign * open_


def merge(existing: Finding | None, draft: Draft) -> Finding:
    """The finding after ``draft``: new, or the existing one with this evidence added.

    The latest sighting decides a presence finding's type; a finding whose type
    stays keeps its resolution, one whose type changes needs a decision again.
    """
    stamp = now()
    evidence = draft.evidence
    if existing is None:
        return Finding(id=draft.id, campaign_id=draft.campaign_id, type=draft.type,
                       status=status_of(draft.type), ci_id=draft.ci_id,
                       asset_tag=draft.asset_tag, place_id=draft.place_id,
                       evidence=(evidence,), created_at=stamp, updated_at=stamp,
                       **draft.details())
    old = existing.evidence
    if any(e.sighting_id == evidence.sighting_id for e in old):
        return existing
    latest = max((e.at or "" for e in old), default="")
    change: dict[str, Any] = {"evidence": (*old, evidence)[-MAX_EVIDENCE:]}
    if (evidence.at or "") >= latest and draft.type is not existing.type:
        change.update(draft.details(), type=draft.type, status=status_of(draft.type),
                      resolution=None)
    return dataclasses.replace(existing, **change, version=existing.version + 1,
                               updated_at=stamp)


async def apply_drafts(tx: StoreTx, drafts: Iterable[Draft],
                       progress: dict[str, Progress]) -> list[Finding]:
    """Upsert findings from ``drafts`` in ``tx`` and move the campaigns' progress."""
    drafts = list(drafts)
    ids = list(dict.fromkeys(d.id for d in drafts))
    existing = await rec.get_findings(tx, ids)
    changed: dict[str, Finding] = {}
    for draft in drafts:
        before = changed.get(draft.id) or existing.get(draft.id)
        after = merge(before, draft)
        if after is before:
            continue
        move_progress(progress[draft.campaign_id].places, before, after)
        changed[draft.id] = after
    await rec.add(tx, [f for i, f in changed.items() if i not in existing])
    await rec.update(tx, [(f, existing[i].version) for i, f in changed.items()
                          if i in existing])
    return list(changed.values())


async def save_progress(tx: StoreTx, progress: dict[str, Progress],
                        before: dict[str, int]) -> None:
    """Write the progress changed by this unit of work (compare-and-set)."""
    await rec.update(tx, [(dataclasses.replace(p, version=before[i] + 1, updated_at=now()),
                           before[i]) for i, p in progress.items()])
