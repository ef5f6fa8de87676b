"""Imports feeding audit campaigns: an applied scan's records become sightings, a
discovery run's outcomes count as "seen by discovery", in the open campaigns (or the
one the caller names); the run's record keeps what they took (``CampaignFeed``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from cmdb.errors import ValidationError
from cmdb.model.records import Actor, now
from cmdb.services.audit.sightings import DiscoveryOutcome, SightingInput
from cmdb.services.imports.outcomes import Outcome, Planned
from cmdb.services.imports.records import CampaignFeed, ImportRun, replace_run
from cmdb.store.base import Store, StoreTx

if TYPE_CHECKING:
    from cmdb.services.audit.service import CampaignService

SCANS = "scans"
#: Sources whose applied runs count as "seen by discovery" in open audit campaigns.
DISCOVERY_FED = ("nmap", "glpi", "ocs", "lshw")


class CampaignFeeder:
    """Feeds what applied runs saw to the audit campaigns."""

    def __init__(self, store: Store, campaigns: CampaignService | None) -> None:
        self.store = store
        #: ``None``: no campaigns to feed (a run naming one is refused).
        self.campaigns = campaigns

    async def campaign(self, source: str, ref: str | None) -> str | None:
        """The id of the campaign a run of ``source`` feeds when the caller names one
        (``ref``, a name or an id; it must be open)."""
        if ref is None:
            return None
        if self.campaigns is None or source not in (*DISCOVERY_FED, SCANS):
            raise ValidationError(f"a {source} import does not feed audit campaigns",
                                  field="campaign")
        campaign = await self.campaigns.get(ref)
        if campaign.status != "open":
            raise ValidationError(f"campaign {campaign.name} is {campaign.status}, "
                                  "not open", field="campaign")
        return campaign.id

    async def feed(self, actor: Actor, run: ImportRun, plans: list[Planned],
                   campaign_id: str | None) -> ImportRun:
        """Scans become sightings and discovery outcomes "seen by discovery" in the open
        campaigns (or the one named); the run records what they took."""
        source = run.source
        if self.campaigns is None or source not in (*DISCOVERY_FED, SCANS):
            return run
        if campaign_id is None and not await self.campaigns.scopes():
            return run
        seen = [p for p in plans if p.observation is not None
                and p.outcome not in (Outcome.INVALID,)]
        if source == SCANS:
            result = await self.campaigns.record_sightings(actor, [
                SightingInput(asset_tag=o.asset_tag, place="/".join(o.location) or None,
                              condition=o.condition, note=o.note, seen_at=o.seen_at,
                              auditor=o.auditor)
                for p in seen if (o := p.observation) is not None and o.asset_tag
            ], "scan", run_id=run.id, campaign_id=campaign_id)
        else:
            result = await self.campaigns.record_discovery(
                actor, run.id, [discovery_outcome(p, source) for p in seen],
                campaign_id=campaign_id)
        fed = dataclasses.replace(
            run, campaign=CampaignFeed(campaign_id, result.recorded, result.duplicates,
                                       result.unscoped),
            version=run.version + 1, updated_at=now())

        async def note(tx: StoreTx) -> None:
            await replace_run(tx, fed, run.version)

        await self.store.write(note)
        return fed


def discovery_outcome(p: Planned, source: str) -> DiscoveryOutcome:
    """What a discovery run saw of one device, as audit campaigns count it."""
    o = p.observation
    assert o is not None
    identity = o.asset_tag or o.serial_number or next(iter(o.mac_addresses), None) \
        or o.fqdn or next(iter(o.hostnames), None) \
        or next((str(ip) for ip in o.ip_addresses), None) or f"line {p.line}"
    ids = [p.ci_id] if p.ci_id and p.outcome is not Outcome.NEW else list(p.candidates)
    return DiscoveryOutcome(
        status=p.outcome.value, identity=identity, ci_ids=ids,
        # what the run wrote is registered now; what it could not write is a mismatch
        differences=[(d.field, d.registered, d.observed) for d in p.differences
                     if not d.applied],
        seen_at=o.seen_at, source=source)
