"""GraphQL for impact analysis: blast radius, dependencies, single points of failure."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from cmdb.api.graphql.cis_types import CIType
from cmdb.api.graphql.context import Context
from cmdb.model.records import CI
from cmdb.services.impact.graph import PathStep
from cmdb.services.impact.service import (
    Dependency,
    ImpactedCI,
    ImpactKind,
    ImpactReport,
    NotifyParty,
    SinglePointOfFailure,
)


@strawberry.enum(name="ImpactKind", description="OUTAGE, or MAINTENANCE (planned).")
class ImpactKindEnum(Enum):
    OUTAGE = "OUTAGE"
    MAINTENANCE = "MAINTENANCE"


@strawberry.enum(name="ImpactStatus")
class ImpactStatusEnum(Enum):
    DOWN = "DOWN"
    DEGRADED = "DEGRADED"


class Known:
    """The CIs a report names, each made into its GraphQL type once (a CI on many paths
    is one object), and so the steps of its paths (paths share their first steps)."""

    def __init__(self, cis: dict[str, CI]) -> None:
        self.cis = cis
        self.types: dict[str, CIType] = {}
        self.steps: dict[tuple[str, str, str, str], PathStepType] = {}

    def __call__(self, ci_id: str) -> CIType | None:
        made = self.types.get(ci_id)
        if made is None:
            ci = self.cis.get(ci_id)
            if ci is None:
                return None
            made = self.types[ci_id] = CIType(ci=ci)
        return made


@strawberry.type(name="PathStep", description="One relationship of an explanation: from TYPE to.")
class PathStepType:
    relationship_id: strawberry.ID
    type: str
    source: CIType | None = strawberry.field(name="from")
    target: CIType | None = strawberry.field(name="to")

    @classmethod
    def of(cls, step: PathStep, known: Known) -> PathStepType:
        return cls(relationship_id=strawberry.ID(step.relationship_id), type=step.type,
                   source=known(step.source_id), target=known(step.target_id))


def _path(steps: list[PathStep], known: Known) -> list[PathStepType]:
    made = known.steps
    out = []
    for s in steps:
        key = (s.relationship_id, s.type, s.source_id, s.target_id)
        step = made.get(key)
        if step is None:
            step = made[key] = PathStepType.of(s, known)
        out.append(step)
    return out


@strawberry.type(name="ImpactedCI", description="A CI the change would take DOWN or "
                 "DEGRADED. `reachedFromId` and `relationshipType` make the impacted CIs a "
                 "tree a client can walk back to the changed CIs; `path` spells the chain "
                 "out step by step.")
class ImpactedCIType:
    # Plain fields, filled when the item is made: read without a resolver call each.
    ci: CIType
    status: ImpactStatusEnum
    depth: int = strawberry.field(description="Shortest distance from a changed CI.")
    reached_from_id: strawberry.ID | None = strawberry.field(
        description="The CI one step nearer the change (a changed CI, or another "
                    "impacted CI): the other end of the last step of `path`.")
    relationship_type: str | None = strawberry.field(
        description="The type of the relationship between this CI and `reachedFromId`.")
    relationship_id: strawberry.ID | None = strawberry.field(
        description="That relationship's id.")
    item: strawberry.Private[ImpactedCI]
    known: strawberry.Private[Known]

    @classmethod
    def of(cls, item: ImpactedCI, known: Known) -> ImpactedCIType:
        last = item.path[-1] if item.path else None
        near = item.reached_from
        return cls(ci=known(item.ci.id) or CIType(ci=item.ci),
                   status=_STATUS[item.status.name], depth=item.depth,
                   reached_from_id=strawberry.ID(near) if near else None,
                   relationship_type=last.type if last else None,
                   relationship_id=strawberry.ID(last.relationship_id) if last else None,
                   item=item, known=known)

    @strawberry.field(description="The CI `reachedFromId` names.")
    def reached_from(self) -> CIType | None:
        return self.known(self.reached_from_id) if self.reached_from_id else None

    @strawberry.field(description="One shortest explanation, from a changed CI to this one.")
    def path(self) -> list[PathStepType]:
        return _path(self.item.path, self.known)


_STATUS = {s.name: s for s in ImpactStatusEnum}


@strawberry.type(name="NotifyParty", description="Whom to tell, and about which CIs.")
class NotifyPartyType:
    item: strawberry.Private[NotifyParty]

    @strawberry.field
    def party(self) -> CIType:
        return CIType(ci=self.item.party)

    @strawberry.field(description="OWNED_BY and/or MANAGED_BY.")
    def roles(self) -> list[str]:
        return self.item.roles

    @strawberry.field
    def cis(self) -> list[CIType]:
        return [CIType(ci=c) for c in self.item.cis]


@strawberry.type(name="ImpactReport")
class ImpactReportType:
    report: strawberry.Private[ImpactReport]
    known: strawberry.Private[Known]

    @strawberry.field
    def kind(self) -> ImpactKindEnum:
        return ImpactKindEnum(self.report.kind.value)

    @strawberry.field(description="True for MAINTENANCE: the outage is planned.")
    def planned(self) -> bool:
        return self.report.planned

    @strawberry.field
    def changed(self) -> list[CIType]:
        return [CIType(ci=c) for c in self.report.changed]

    @strawberry.field(description="Every CI that would be DOWN or DEGRADED, nearest first.")
    def impacted(self) -> list[ImpactedCIType]:
        return [ImpactedCIType.of(i, self.known) for i in self.report.impacted]

    @strawberry.field(description="The impacted business services.")
    def services(self) -> list[ImpactedCIType]:
        return [ImpactedCIType.of(i, self.known) for i in self.report.services]

    @strawberry.field(description="People and teams owning or managing impacted CIs.")
    def notify(self) -> list[NotifyPartyType]:
        return [NotifyPartyType(item=n) for n in self.report.notify]

    @strawberry.field(description="True when maxDepth stopped the search while more was reachable.")
    def truncated(self) -> bool:
        return self.report.truncated

    @strawberry.field
    def total(self) -> int:
        return len(self.report.impacted)


@strawberry.type(name="Dependency")
class DependencyType:
    item: strawberry.Private[Dependency]

    @strawberry.field
    def ci(self) -> CIType:
        return CIType(ci=self.item.ci)

    @strawberry.field
    def depth(self) -> int:
        return self.item.depth

    @strawberry.field(description="Which of the asked CIs need this one.")
    def shared_by(self) -> list[CIType]:
        return [CIType(ci=c) for c in self.item.shared_by]


@strawberry.type(name="DependencyReport")
class DependencyReportType:
    dependencies: list[DependencyType] = strawberry.field(
        description="Shared dependencies first (root-cause candidates), then by depth."
    )


@strawberry.type(name="SinglePointOfFailure")
class SinglePointOfFailureType:
    item: strawberry.Private[SinglePointOfFailure]

    @strawberry.field
    def ci(self) -> CIType:
        return CIType(ci=self.item.ci)

    @strawberry.field
    def depth(self) -> int:
        return self.item.depth

    @strawberry.field(description="The chain of relationships from the service to this CI.")
    def path(self) -> list[PathStepType]:
        return _path(self.item.path, Known(self.item.cis))


@strawberry.type
class ImpactQuery:
    """What breaks, what is needed, what cannot be lost."""

    @strawberry.field(description="What would be DOWN or DEGRADED if these CIs went down.")
    async def impact(
        self, info: Info[Context, None], ci_ids: list[strawberry.ID],
        kind: ImpactKindEnum = ImpactKindEnum.OUTAGE, max_depth: int = 10,
        relationship_types: list[str] | None = None,
    ) -> ImpactReportType:
        report = await info.context.cmdb.impact.impact(
            [str(i) for i in ci_ids], ImpactKind(kind.value), max_depth, relationship_types
        )
        info.context.prime([*report.changed, *(i.ci for i in report.impacted)])
        return ImpactReportType(report=report, known=Known(report.cis))

    @strawberry.field(description="What these CIs need (upstream), shared dependencies first.")
    async def dependencies(
        self, info: Info[Context, None], ci_ids: list[strawberry.ID], max_depth: int = 10
    ) -> DependencyReportType:
        deps = await info.context.cmdb.impact.dependencies([str(i) for i in ci_ids], max_depth)
        return DependencyReportType(dependencies=[DependencyType(item=d) for d in deps])

    @strawberry.field(description="CIs whose loss alone takes the service DOWN.")
    async def single_points_of_failure(
        self, info: Info[Context, None], service_id: strawberry.ID
    ) -> list[SinglePointOfFailureType]:
        spofs = await info.context.cmdb.impact.single_points_of_failure(str(service_id))
        return [SinglePointOfFailureType(item=s) for s in spofs]
