"""Impact analysis: what breaks if these CIs go down, what they need, what single
CIs a service cannot lose.

Failure travels along each relationship type as ``schema/relationships.yaml``
declares: ``target_to_source`` types carry a dependency's status to its
dependent (DOWN stays DOWN, DEGRADED stays DEGRADED); ``redundancy`` types
(MEMBER_OF) carry members' losses to their group, which is DOWN when fewer than
its ``min_members`` are up and DEGRADED when it lost some but not enough; a CI
reached both ways is DOWN. Types with ``none`` never propagate.

The store finds the reachable part of the graph in one bounded traversal; the
statuses are then worked out in memory over that part only, so the cost
follows what is reached, not the size of the CMDB.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from cmdb.errors import LimitExceededError, NotFoundError, ValidationError
from cmdb.model.definitions import Propagation
from cmdb.model.queries import ClosureResult
from cmdb.model.records import CI
from cmdb.model.registry import Registry
from cmdb.services.spof import single_points
from cmdb.store.base import Store

MAX_DEPTH = 25
MAX_CIS = 200
NOTIFY_TYPES = ("OWNED_BY", "MANAGED_BY")
SERVICE_CLASS = "BusinessService"


class Status(IntEnum):
    """How badly a CI is hit; the larger wins when it is reached several ways."""

    UP = 0
    DEGRADED = 1
    DOWN = 2


class ImpactKind(StrEnum):
    OUTAGE = "OUTAGE"
    MAINTENANCE = "MAINTENANCE"


@dataclass(frozen=True)
class PathStep:
    """One relationship of an explanation: ``source`` TYPE ``target``."""

    relationship_id: str
    type: str
    source_id: str
    target_id: str


@dataclass
class ImpactedCI:
    ci: CI
    status: Status
    depth: int
    path: list[PathStep]


@dataclass
class NotifyParty:
    """A person or team owning or managing impacted CIs."""

    party: CI
    roles: list[str]
    cis: list[CI]


@dataclass
class ImpactReport:
    kind: ImpactKind
    changed: list[CI]
    impacted: list[ImpactedCI]
    services: list[ImpactedCI]
    notify: list[NotifyParty]
    truncated: bool
    max_depth: int
    cis: dict[str, CI] = field(default_factory=dict)
    """Every CI the report names (path ends included), for resolving without lookups."""

    @property
    def planned(self) -> bool:
        return self.kind is ImpactKind.MAINTENANCE


@dataclass
class Dependency:
    ci: CI
    depth: int
    shared_by: list[CI]


@dataclass
class SinglePointOfFailure:
    ci: CI
    depth: int
    path: list[PathStep]
    cis: dict[str, CI] = field(default_factory=dict)


@dataclass
class Subgraph:
    """The part of the graph a question reaches, with what propagates within it."""

    needs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    dependents: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    groups_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    min_members: dict[str, int] = field(default_factory=dict)

    def propagate(self, failed: Iterable[str]) -> dict[str, Status]:
        """Statuses after ``failed`` go DOWN: a worklist that only visits what changes."""
        status: dict[str, Status] = {}
        queue: deque[str] = deque()
        for f in failed:
            status[f] = Status.DOWN
            queue.append(f)
        fixed = set(status)
        while queue:
            node = queue.popleft()
            for other in (*self.dependents.get(node, ()), *self.groups_of.get(node, ())):
                if other in fixed:
                    continue
                new = self._status_of(other, status)
                if new > status.get(other, Status.UP):
                    status[other] = new
                    queue.append(other)
        return status

    def _status_of(self, node: str, status: dict[str, Status]) -> Status:
        worst = max((status.get(d, Status.UP) for d in self.needs.get(node, ())),
                    default=Status.UP)
        members = self.members.get(node)
        if members:
            down = sum(1 for m in members if status.get(m) is Status.DOWN)
            if down:
                up = len(members) - down
                worst = max(worst, Status.DOWN if up < self.min_members.get(node, 1)
                            else Status.DEGRADED)
        return worst


def _path(rows: ClosureResult, target: str, reverse: set[str]) -> dict[str, list[PathStep]]:
    """One shortest explanation per reached CI, from the traversal's parent pointers.

    With ``direction="in"`` a forward step ``parent <- child`` is the relationship
    ``child -[T]-> parent``; a reverse-type step is ``parent -[T]-> child``.
    """
    by_id = {r.ci_id: r for r in rows.rows}
    paths: dict[str, list[PathStep]] = {}

    def build(ci_id: str) -> list[PathStep]:
        if ci_id in paths:
            return paths[ci_id]
        row = by_id[ci_id]
        if row.parent_id is None or row.via_id is None or row.via_type is None:
            paths[ci_id] = []
            return paths[ci_id]
        if (row.via_type in reverse) == (target == "in"):
            step = PathStep(row.via_id, row.via_type, row.parent_id, ci_id)
        else:
            step = PathStep(row.via_id, row.via_type, ci_id, row.parent_id)
        paths[ci_id] = [*build(row.parent_id), step]
        return paths[ci_id]

    for ci_id in by_id:
        build(ci_id)
    return paths


class ImpactService:
    """Impact, dependencies and single points of failure, over any store."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry

    def _types(self, only: Sequence[str] | None) -> tuple[list[str], list[str]]:
        """(types that carry failure to their source, redundancy types)."""
        if only is not None:
            for t in only:
                self.registry.relationship_type(t)
        allowed = set(only) if only is not None else None
        forward = [t for t in self.registry.types_propagating(Propagation.TARGET_TO_SOURCE)
                   if allowed is None or t in allowed]
        groups = [t for t in self.registry.types_propagating(Propagation.REDUNDANCY)
                  if allowed is None or t in allowed]
        return forward, groups

    def _check(self, ci_ids: Sequence[str], max_depth: int) -> None:
        if not ci_ids:
            raise ValidationError("give at least one CI", field="ciIds")
        if len(ci_ids) > MAX_CIS:
            raise LimitExceededError(f"at most {MAX_CIS} CIs at once", field="ciIds",
                                     limit=MAX_CIS)
        if not 0 <= max_depth <= MAX_DEPTH:
            raise LimitExceededError(f"maxDepth must be between 0 and {MAX_DEPTH}",
                                     field="maxDepth", limit=MAX_DEPTH)

    async def _cis(self, ids: Sequence[str]) -> dict[str, CI]:
        found = await self.store.get_cis(list(ids))
        return found

    async def _subgraph(self, ids: Sequence[str], forward: list[str],
                        groups: list[str], cis: dict[str, CI]) -> Subgraph:
        """Dependencies and group memberships among ``ids`` (members outside count as up)."""
        inside = set(ids)
        sub = Subgraph()
        if forward:
            for source, rels in (await self.store.relationships_of(ids, "out", forward)).items():
                for rel in rels:
                    if rel.target_id in inside:
                        sub.needs[source].add(rel.target_id)
                        sub.dependents[rel.target_id].add(source)
        if groups:
            for group, rels in (await self.store.relationships_of(ids, "in", groups)).items():
                if not rels:
                    continue
                sub.members[group] = {r.source_id for r in rels}
                for rel in rels:
                    sub.groups_of[rel.source_id].add(group)
                k = cis[group].attributes.get("min_members") if group in cis else None
                sub.min_members[group] = k if isinstance(k, int) and k > 0 else 1
        return sub

    async def impact(
        self, ci_ids: Sequence[str], kind: ImpactKind = ImpactKind.OUTAGE, max_depth: int = 10,
        relationship_types: Sequence[str] | None = None,
    ) -> ImpactReport:
        """Every CI that would be DOWN or DEGRADED if ``ci_ids`` went down."""
        self._check(ci_ids, max_depth)
        forward, groups = self._types(relationship_types)
        reach = await self.store.closure(list(ci_ids), "in", forward, max_depth,
                                         reverse_types=groups)
        reached = [r.ci_id for r in reach.rows]
        cis = await self._cis(reached)
        missing = [i for i in ci_ids if i not in cis]
        if missing:
            raise NotFoundError(f"no CI with id {missing[0]!r}", id=missing[0], field="ciIds")
        sub = await self._subgraph(reached, forward, groups, cis)
        status = sub.propagate(ci_ids)
        paths = _path(reach, "in", set(groups))
        changed = set(ci_ids)
        impacted = [
            ImpactedCI(cis[r.ci_id], status[r.ci_id], r.depth, paths[r.ci_id])
            for r in reach.rows
            if r.ci_id not in changed and status.get(r.ci_id, Status.UP) is not Status.UP
        ]
        services = [i for i in impacted
                    if self.registry.class_info(i.ci.class_name).is_a(SERVICE_CLASS)]
        notify = await self._notify([*ci_ids, *(i.ci.id for i in impacted)], cis)
        return ImpactReport(kind, [cis[i] for i in ci_ids], impacted, services, notify,
                            reach.truncated, max_depth, cis)

    async def _notify(self, ids: Sequence[str], cis: dict[str, CI]) -> list[NotifyParty]:
        links = await self.store.relationships_of(list(ids), "out", list(NOTIFY_TYPES))
        concern: dict[str, list[str]] = defaultdict(list)
        roles: dict[str, set[str]] = defaultdict(set)
        for ci_id, rels in links.items():
            for rel in rels:
                if ci_id not in concern[rel.target_id]:
                    concern[rel.target_id].append(ci_id)
                roles[rel.target_id].add(rel.type)
        parties = await self._cis(list(concern))
        out = [NotifyParty(parties[p], sorted(roles[p]), [cis[c] for c in concern[p] if c in cis])
               for p in concern if p in parties]
        return sorted(out, key=lambda n: (-len(n.cis), n.party.name))

    async def dependencies(
        self, ci_ids: Sequence[str], max_depth: int = 10
    ) -> list[Dependency]:
        """What the CIs need (upstream), shared dependencies first with who shares them."""
        self._check(ci_ids, max_depth)
        if len(ci_ids) > 50:
            raise LimitExceededError("at most 50 CIs at once", field="ciIds", limit=50)
        forward, groups = self._types(None)
        depth: dict[str, int] = {}
        shared: dict[str, list[str]] = defaultdict(list)
        for start in ci_ids:
            reach = await self.store.closure([start], "out", forward, max_depth,
                                             reverse_types=groups)
            if not reach.rows:
                raise NotFoundError(f"no CI with id {start!r}", id=start, field="ciIds")
            for row in reach.rows:
                if row.ci_id in ci_ids:
                    continue
                shared[row.ci_id].append(start)
                depth[row.ci_id] = min(depth.get(row.ci_id, row.depth), row.depth)
        cis = await self._cis([*depth, *ci_ids])
        deps = [Dependency(cis[d], depth[d], [cis[s] for s in shared[d]]) for d in depth
                if d in cis]
        return sorted(deps, key=lambda d: (-len(d.shared_by), d.depth, d.ci.name, d.ci.id))

    async def single_points_of_failure(
        self, service_id: str, max_depth: int = MAX_DEPTH
    ) -> list[SinglePointOfFailure]:
        """CIs whose loss alone takes ``service_id`` DOWN, redundancy honoured."""
        forward, groups = self._types(None)
        reach = await self.store.closure([service_id], "out", forward, max_depth,
                                         reverse_types=groups)
        if not reach.rows:
            raise NotFoundError(f"no CI with id {service_id!r}", id=service_id,
                                field="serviceId")
        ids = [r.ci_id for r in reach.rows]
        cis = await self._cis(ids)
        sub = await self._subgraph(ids, forward, groups, cis)
        paths = _path(reach, "out", set(groups))
        fatal = single_points(sub, service_id, (r.ci_id for r in reach.rows))
        out = [SinglePointOfFailure(cis[r.ci_id], r.depth, paths[r.ci_id], cis)
               for r in reach.rows if r.ci_id in fatal]
        return sorted(out, key=lambda s: (s.depth, s.ci.name, s.ci.id))
