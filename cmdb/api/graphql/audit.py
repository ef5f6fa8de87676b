"""GraphQL for audit campaigns: plan, open and close campaigns, record sightings, read
progress and findings, resolve findings, and the CMDB health report."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from cmdb.api.graphql.cis_types import CIType, PageInfoType
from cmdb.api.graphql.context import Context
from cmdb.errors import ValidationError
from cmdb.services.audit.records import Campaign, Finding, Sighting
from cmdb.services.audit.resolutions import ResolveOptions
from cmdb.services.audit.service import CampaignInput
from cmdb.services.audit.sightings import SightingInput
from cmdb.services.audit.values import FindingStatus, FindingType, OpenFindings, Resolution

# The service's enums, exposed as GraphQL enums under these names.
strawberry.enum(FindingType, name="FindingType")
strawberry.enum(FindingStatus, name="FindingStatus")
strawberry.enum(Resolution, name="FindingResolution")


@strawberry.enum(name="OpenFindingsDecision")
class OpenFindingsEnum(Enum):
    LEAVE_OPEN = "LEAVE_OPEN"
    CARRY_OVER = "CARRY_OVER"


@strawberry.type(name="FindingEvidence", description="The sighting behind a finding.")
class EvidenceType:
    sighting_id: str | None
    by: str | None
    at: str | None
    source: str | None
    place: str | None
    condition: str | None
    note: str | None


@strawberry.type(name="FindingResolutionRecord", description="Who resolved it, how, why.")
class ResolutionRecordType:
    how: str
    reason: str
    by: str
    at: str
    detail: JSON


async def _ci(info: Info[Context, None], ci_id: Any) -> CIType | None:
    if not ci_id:
        return None
    found = await info.context.ci_loader.load(str(ci_id))
    return CIType(ci=found) if found else None


@strawberry.type(name="Finding")
class FindingGQL:
    finding: strawberry.Private[Finding]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.finding.id)

    @strawberry.field
    def type(self) -> FindingType:
        return self.finding.type

    @strawberry.field
    def status(self) -> FindingStatus:
        return self.finding.status

    @strawberry.field
    def asset_tag(self) -> str | None:
        return self.finding.asset_tag

    @strawberry.field(description="The device as an unregistered or ambiguous sighting names it.")
    def identity(self) -> str | None:
        return self.finding.identity

    @strawberry.field
    async def ci(self, info: Info[Context, None]) -> CIType | None:
        return await _ci(info, self.finding.ci_id)

    @strawberry.field(description="Where the CI is registered (or, unregistered: where seen).")
    async def place(self, info: Info[Context, None]) -> CIType | None:
        return await _ci(info, self.finding.place_id)

    @strawberry.field
    async def seen_place(self, info: Info[Context, None]) -> CIType | None:
        return await _ci(info, self.finding.seen_place_id)

    @strawberry.field
    async def candidates(self, info: Info[Context, None]) -> list[CIType]:
        out = [await _ci(info, c) for c in self.finding.candidates]
        return [c for c in out if c is not None]

    @strawberry.field(description="ATTRIBUTE_MISMATCH: the attribute, registered and observed.")
    def field(self) -> str | None:
        return self.finding.field

    @strawberry.field
    def registered(self) -> JSON | None:
        return cast("JSON | None", self.finding.registered)

    @strawberry.field
    def observed(self) -> JSON | None:
        return cast("JSON | None", self.finding.observed)

    @strawberry.field
    def evidence(self) -> list[EvidenceType]:
        return [EvidenceType(sighting_id=e.sighting_id, by=e.by, at=e.at, source=e.source,
                             place=e.place, condition=e.condition, note=e.note)
                for e in self.finding.evidence]

    @strawberry.field
    def carried_from(self) -> str | None:
        return self.finding.carried_from

    @strawberry.field
    def resolution(self) -> ResolutionRecordType | None:
        r = self.finding.resolution
        return ResolutionRecordType(how=r.how.value, reason=r.reason, by=r.by, at=r.at,
                                    detail=cast(JSON, r.detail)) if r else None


@strawberry.type(name="FindingConnection")
class FindingConnectionType:
    nodes: list[FindingGQL]
    page_info: PageInfoType


@strawberry.input(name="FindingFilter")
class FindingFilterInput:
    type: FindingType | None = None
    status: FindingStatus | None = None


@strawberry.type(name="CampaignPlaceProgress")
class ProgressType:
    place_id: strawberry.ID
    name: str
    registered: int
    seen: int
    verified: int
    open_findings: int


@strawberry.type(name="Campaign")
class CampaignType:
    campaign: strawberry.Private[Campaign]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.campaign.id)

    @strawberry.field
    def name(self) -> str:
        return self.campaign.name

    @strawberry.field(description="planned, open or closed.")
    def status(self) -> str:
        return self.campaign.status

    @strawberry.field
    async def places(self, info: Info[Context, None]) -> list[CIType]:
        out = [await _ci(info, p) for p in self.campaign.place_ids]
        return [c for c in out if c is not None]

    @strawberry.field(description="Classes in scope, as given (subclasses included).")
    def classes(self) -> list[str]:
        return list(self.campaign.classes or ["Hardware"])

    @strawberry.field
    def period_start(self) -> date | None:
        return self.campaign.period_start

    @strawberry.field
    def period_end(self) -> date | None:
        return self.campaign.period_end

    @strawberry.field
    def auditors(self) -> list[str]:
        return list(self.campaign.auditors)

    @strawberry.field
    def discovery_counts_as_verified(self) -> bool:
        return self.campaign.discovery_counts_as_verified

    @strawberry.field(description="LEAVE_OPEN or CARRY_OVER, once closed.")
    def open_findings_decision(self) -> str | None:
        decision = self.campaign.open_findings
        return decision.value if decision else None

    @strawberry.field(description="Per place: registered, seen, verified, open findings.")
    async def progress(self, info: Info[Context, None]) -> list[ProgressType]:
        rows = await info.context.cmdb.campaigns.progress(self.campaign.id)
        return [ProgressType(place_id=strawberry.ID(r.place_id), name=r.name,
                             registered=r.registered, seen=r.seen, verified=r.verified,
                             open_findings=r.open) for r in rows]

    @strawberry.field(description="Findings, newest first; `after` is an end cursor.")
    async def findings(self, info: Info[Context, None], filter: FindingFilterInput | None = None,
                       first: int = 50, after: str | None = None) -> FindingConnectionType:
        if not 0 <= first <= 500:
            raise ValidationError("first must be between 0 and 500", field="first")
        # a cursor is an offset; one of a thousand digits is no cursor (int() refuses it)
        offset = int(after) if after and after.isdigit() and len(after) <= 9 else 0
        found, more = await info.context.cmdb.campaigns.findings(
            self.campaign.id, filter.type.value if filter and filter.type else None,
            filter.status.value if filter and filter.status else None, first, offset)
        return FindingConnectionType(
            nodes=[FindingGQL(finding=f) for f in found],
            page_info=PageInfoType(has_next_page=more, has_previous_page=offset > 0,
                                   start_cursor=str(offset),
                                   end_cursor=str(offset + len(found))))


@strawberry.type(name="Sighting")
class SightingType:
    sighting: strawberry.Private[Sighting]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.sighting.id)

    @strawberry.field
    def asset_tag(self) -> str | None:
        return self.sighting.asset_tag

    @strawberry.field
    def seen_at(self) -> datetime:
        return self.sighting.seen_time

    @strawberry.field
    def auditor(self) -> str | None:
        return self.sighting.auditor

    @strawberry.field(description="scan, page or discovery.")
    def source(self) -> str:
        return self.sighting.source

    @strawberry.field(description="Null when no open campaign covers it (kept, reported).")
    def campaign_id(self) -> str | None:
        return self.sighting.campaign_id


@strawberry.type(name="RecordSightingResult")
class RecordSightingResultType:
    sighting: SightingType | None
    duplicate: bool
    findings: list[FindingGQL]


@strawberry.input(name="CreateCampaignInput")
class CreateCampaignInput:
    name: str
    place_ids: list[strawberry.ID]
    classes: list[str] = strawberry.field(default_factory=list)
    period_start: date | None = None
    period_end: date | None = None
    auditors: list[str] = strawberry.field(default_factory=list)
    discovery_counts_as_verified: bool = False


@strawberry.input(name="RecordSightingInput")
class RecordSightingInput:
    asset_tag: str
    place: str | None = strawberry.field(
        default=None, description="A registered place: its id or a path such as "
        "北京总部/3楼机房 (one naming no registered place is refused: VALIDATION_ERROR, "
        "field place)")
    condition: str | None = None
    note: str | None = None
    seen_at: datetime | None = strawberry.field(
        default=None, description="When (default: now). ISO 8601; without an offset "
        "(2026-07-10T10:03:00) it is local time in the CMDB's time zone (CMDB_TIME_ZONE)")


@strawberry.input(name="CampaignFilter")
class CampaignFilterInput:
    status: str | None = None


@strawberry.type(name="ClassCompleteness")
class CompletenessType:
    class_name: str
    total: int
    incomplete: int
    missing: JSON


@strawberry.type(name="DuplicateCandidates")
class DuplicateType:
    reason: str
    value: str
    ci_ids: list[strawberry.ID]


@strawberry.type(name="CmdbHealth")
class HealthType:
    completeness: list[CompletenessType]
    duplicates: list[DuplicateType]
    stale_days: int
    stale_discovery_count: int
    stale_discovery: list[strawberry.ID]
    never_audited_count: int
    never_audited: list[strawberry.ID]
    last_campaign: str | None
    not_in_last_campaign_count: int
    not_in_last_campaign: list[strawberry.ID]


@strawberry.type
class CampaignQuery:
    """Audit campaigns and CMDB health."""

    @strawberry.field
    async def campaign(self, info: Info[Context, None], id: strawberry.ID) -> CampaignType:
        return CampaignType(campaign=await info.context.cmdb.campaigns.get(str(id)))

    @strawberry.field(description="Campaigns, newest first.")
    async def campaigns(self, info: Info[Context, None], filter: CampaignFilterInput | None = None,
                        first: int = 50, after: str | None = None) -> list[CampaignType]:
        found, _ = await info.context.cmdb.campaigns.find(filter.status if filter else None,
                                                          min(first, 500), after)
        return [CampaignType(campaign=c) for c in found]

    @strawberry.field(description="Completeness, duplicate candidates, stale discovery, audits.")
    async def cmdb_health(self, info: Info[Context, None], stale_days: int = 30,
                          limit: int = 100) -> HealthType:
        r = await info.context.cmdb.health.report(stale_days, min(limit, 1000))
        return HealthType(
            completeness=[CompletenessType(class_name=c.class_name, total=c.total,
                                           incomplete=c.incomplete, missing=cast(JSON, c.missing))
                          for c in r.completeness],
            duplicates=[DuplicateType(reason=g.reason, value=g.value, ci_ids=ids(g.ci_ids))
                        for g in r.duplicates],
            stale_days=r.stale_days, stale_discovery_count=r.stale_discovery_count,
            stale_discovery=ids(r.stale_discovery), never_audited_count=r.never_audited_count,
            never_audited=ids(r.never_audited), last_campaign=r.last_campaign,
            not_in_last_campaign_count=r.not_in_last_campaign_count,
            not_in_last_campaign=ids(r.not_in_last_campaign))


@strawberry.type
class CampaignMutation:
    """Run audit campaigns."""

    @strawberry.mutation(description="Plan a campaign over places (with everything below).")
    async def create_campaign(self, info: Info[Context, None],
                              input: CreateCampaignInput) -> CampaignType:
        campaign = await info.context.cmdb.campaigns.create(info.context.actor, CampaignInput(
            name=input.name, place_ids=[str(p) for p in input.place_ids],
            classes=input.classes, period_start=input.period_start,
            period_end=input.period_end, auditors=input.auditors,
            discovery_counts_as_verified=input.discovery_counts_as_verified))
        return CampaignType(campaign=campaign)

    @strawberry.mutation
    async def open_campaign(self, info: Info[Context, None], id: strawberry.ID) -> CampaignType:
        return CampaignType(campaign=await info.context.cmdb.campaigns.open(
            info.context.actor, str(id)))

    @strawberry.mutation(description="Add MISSING findings and close; open findings need a "
                                     "decision (LEAVE_OPEN or CARRY_OVER).")
    async def close_campaign(self, info: Info[Context, None], id: strawberry.ID,
                             open_findings: OpenFindingsEnum | None = None,
                             reason: str | None = None) -> CampaignType:
        decision = OpenFindings(open_findings.value) if open_findings else None
        return CampaignType(campaign=await info.context.cmdb.campaigns.close(
            info.context.actor, str(id), decision, reason))

    @strawberry.mutation(description="An asset seen here, now (the asset page's button).")
    async def record_sighting(self, info: Info[Context, None],
                              input: RecordSightingInput) -> RecordSightingResultType:
        result = await info.context.cmdb.campaigns.record_sightings(info.context.actor, [
            SightingInput(input.asset_tag, input.place, input.condition, input.note,
                          input.seen_at)], "page")
        return RecordSightingResultType(
            sighting=SightingType(sighting=result.sightings[0]) if result.sightings else None,
            duplicate=result.duplicates > 0,
            findings=[FindingGQL(finding=f) for f in result.findings])

    @strawberry.mutation
    async def resolve_finding(
        self, info: Info[Context, None], id: strawberry.ID,
        resolution: Resolution, reason: str,
        class_name: str | None = None, name: str | None = None,
        survivor_id: strawberry.ID | None = None,
    ) -> FindingGQL:
        finding = await info.context.cmdb.resolutions.resolve(
            info.context.actor, str(id), resolution, reason,
            ResolveOptions(class_name, name, str(survivor_id) if survivor_id else None))
        return FindingGQL(finding=finding)

    @strawberry.mutation(description="Resolve a selection of findings the same way.")
    async def resolve_findings(
        self, info: Info[Context, None], ids: list[strawberry.ID],
        resolution: Resolution, reason: str,
        class_name: str | None = None,
    ) -> list[FindingGQL]:
        found = await info.context.cmdb.resolutions.resolve_many(
            info.context.actor, [str(i) for i in ids], resolution, reason,
            ResolveOptions(class_name))
        return [FindingGQL(finding=f) for f in found]


def ids(values: list[str]) -> list[strawberry.ID]:
    return [strawberry.ID(v) for v in values]
