"""Audit findings: what a campaign found when it compared sightings with the register.

A finding is a Doc of kind ``finding`` whose ``parent`` is its campaign and whose
``key`` is ``"{status}:{type}"`` (so one store call lists e.g. the open MISPLACED
ones). Its id is derived from what it is about (campaign, type family, CI or tag),
so seeing an asset twice updates one finding instead of adding a second; each
finding keeps its evidence (sighting id, who, when, from which road).

Progress per place (registered / seen / verified / open findings) is kept in one
small ``campaign_progress`` doc, moved by the difference each finding change makes,
so the campaign page reads it in one call however big the campaign is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cmdb.model.records import Doc, now
from cmdb.store.base import StoreTx

KIND = "finding"
PROGRESS = "campaign_progress"
MAX_EVIDENCE = 20


class FindingType(StrEnum):
    """What a campaign can find about an asset."""

    VERIFIED = "VERIFIED"
    MISPLACED = "MISPLACED"
    ATTRIBUTE_MISMATCH = "ATTRIBUTE_MISMATCH"
    UNREGISTERED = "UNREGISTERED"
    AMBIGUOUS = "AMBIGUOUS"
    DUPLICATE = "DUPLICATE"
    MISSING = "MISSING"


class FindingStatus(StrEnum):
    """``ok`` needs nothing (verified); ``open`` needs a decision; ``carried`` went on to
    the next campaign."""

    OK = "ok"
    OPEN = "open"
    RESOLVED = "resolved"
    CARRIED = "carried"


class Resolution(StrEnum):
    """How an auditor settles a finding."""

    ACCEPT_OBSERVED = "ACCEPT_OBSERVED"
    KEEP_REGISTERED = "KEEP_REGISTERED"
    REGISTER_NEW = "REGISTER_NEW"
    MARK_LOST = "MARK_LOST"
    MERGE_DUPLICATES = "MERGE_DUPLICATES"


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
OPEN_KEYS = tuple(f"open:{t.value}" for t in FindingType if t is not FindingType.VERIFIED)


def finding_id(campaign_id: str, family: str, subject: str) -> str:
    """The stable id of the finding about ``subject`` (a CI id, a tag) in a campaign."""
    digest = hashlib.sha256(f"{campaign_id}\x1f{family}\x1f{subject}".encode()).hexdigest()
    return "f" + digest[:23]


def doc_key(status: str, type_: str) -> str:
    return f"{status}:{type_}"


@dataclass
class Draft:
    """A finding as the evaluation of one sighting proposes it."""

    campaign_id: str
    type: FindingType
    subject: str
    place_id: str | None
    evidence: dict[str, Any]
    ci_id: str | None = None
    asset_tag: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        if self.type in PRESENCE:
            return "presence"
        if self.type is FindingType.ATTRIBUTE_MISMATCH:
            return "mismatch:" + str(self.data.get("field"))
        return self.type.value

    @property
    def id(self) -> str:
        return finding_id(self.campaign_id, self.family, self.subject)


def status_of(type_: FindingType) -> FindingStatus:
    return FindingStatus.OK if type_ is FindingType.VERIFIED else FindingStatus.OPEN


def contribution(doc: Doc | None) -> tuple[str | None, tuple[int, int, int]]:
    """What a finding adds to its place's (seen, verified, open) counters."""
    if doc is None:
        return None, (0, 0, 0)
    t, status = doc.data["type"], doc.data["status"]
    seen = int(t in (FindingType.VERIFIED, FindingType.MISPLACED))
    return doc.data.get("place_id"), (seen, int(t == FindingType.VERIFIED),
                                       int(status == FindingStatus.OPEN))


def move_progress(places: dict[str, Any], before: Doc | None, after: Doc | None) -> None:
    """Apply the difference between a finding's old and new state to the counters."""
    for doc, sign in ((before, -1), (after, 1)):
        place, (seen, verified, open_) = contribution(doc)
        if doc is None:
            continue
        row = places.setdefault(place or "", {"name": "", "registered": 0, "seen": 0,
                                              "verified": 0, "open": 0})
        row["seen"] += sign * seen
        row["verified"] += sign * verified
        row["open"] += sign * open_


def merge(existing: Doc | None, draft: Draft) -> Doc:
    """The finding after ``draft``: new, or the existing one with this evidence added.

    The latest sighting decides a presence finding's type; a finding whose type
    stays keeps its resolution, one whose type changes needs a decision again.
    """
    stamp = now()
    evidence = draft.evidence
    if existing is None:
        status = status_of(draft.type)
        data = {"type": draft.type.value, "status": status.value, "campaign_id":
                draft.campaign_id, "ci_id": draft.ci_id, "asset_tag": draft.asset_tag,
                "place_id": draft.place_id, "evidence": [evidence], "resolution": None,
                **draft.data}
        return Doc(kind=KIND, id=draft.id, parent=draft.campaign_id,
                   key=doc_key(status, draft.type), data=data, created_at=stamp,
                   updated_at=stamp)
    data = dict(existing.data)
    old = list(data.get("evidence", []))
    if any(e.get("sighting_id") == evidence.get("sighting_id") for e in old):
        return existing
    latest = max((str(e.get("at") or "") for e in old), default="")
    data["evidence"] = [*old, evidence][-MAX_EVIDENCE:]
    if str(evidence.get("at") or "") >= latest and draft.type.value != data["type"]:
        data.update(draft.data)
        data["type"] = draft.type.value
        data["status"] = status_of(draft.type).value
        data["resolution"] = None
    return existing.model_copy(update={
        "data": data, "key": doc_key(data["status"], data["type"]),
        "version": existing.version + 1, "updated_at": stamp})


async def apply_drafts(tx: StoreTx, drafts: Iterable[Draft],
                       progress: dict[str, Doc]) -> list[Doc]:
    """Upsert findings from ``drafts`` in ``tx`` and move the campaigns' progress docs."""
    drafts = list(drafts)
    ids = list(dict.fromkeys(d.id for d in drafts))
    existing = await tx.get_docs(KIND, ids) if ids else {}
    changed: dict[str, Doc] = {}
    for draft in drafts:
        before = changed.get(draft.id) or existing.get(draft.id)
        after = merge(before, draft)
        if after is before:
            continue
        places = progress[draft.campaign_id].data.setdefault("places", {})
        move_progress(places, before, after)
        changed[draft.id] = after
    fresh = [d for i, d in changed.items() if i not in existing]
    if fresh:
        await tx.put_docs(fresh)
    await tx.update_docs([(doc, existing[doc_id].version)
                          for doc_id, doc in changed.items() if doc_id in existing])
    return list(changed.values())


async def save_progress(tx: StoreTx, progress: dict[str, Doc],
                        before: dict[str, int]) -> None:
    """Write the progress docs changed by this unit of work (compare-and-set)."""
    await tx.update_docs([(doc.model_copy(update={"version": before[doc.id] + 1,
                                                  "updated_at": now()}), before[doc.id])
                          for doc in progress.values()])
