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
follows what is reached, not the size of the CMDB. Explanations come last, from
the statuses: a breadth-first search through affected CIs only, so every step
of a path is one the failure really takes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from cmdb.errors import LimitExceededError, NotFoundError, ValidationError
from cmdb.model.definitions import Propagation, Role
from cmdb.model.records import CI
from cmdb.model.registry import Registry
from cmdb.services.impact.graph import Explanation, PathStep, Status, Subgraph
from cmdb.services.impact.spof import single_points
from cmdb.store.base import Store

MAX_DEPTH = 25
MAX_CIS = 200
SERVICE_CLASS = "BusinessService"


class ImpactKind(StrEnum):
    OUTAGE = "OUTAGE"
    MAINTENANCE = "MAINTENANCE"


@dataclass
class ImpactedCI:
    ci: CI
    status: Status
    depth: int
    path: list[PathStep]
    """How the failure reaches this CI, from a changed CI; every CI on it is affected."""

    @property
    def reached_from(self) -> str | None:
        """The CI one step closer to the changed ones (None for none: depth 0)."""
        if not self.path:
            return None
        last = self.path[-1]
        return last.target_id if last.source_id == self.ci.id else last.source_id


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


class ImpactService:
    """Impact, dependencies and single points of failure, over any store."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry

    def _types(self, only: Sequence[str] | None) -> tuple[list[str], list[str]]:
        """(types that carry failure to their source, redundancy types)."""
        allowed = {self.registry.type_name(t) for t in only} if only is not None else None
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
                        sub.add_dependency(source, rel.target_id, rel.id, rel.type)
        if groups:
            for group, rels in (await self.store.relationships_of(ids, "in", groups)).items():
                if not rels:
                    continue
                sub.members[group] = {r.source_id for r in rels}
                for rel in rels:
                    sub.add_member(rel.source_id, group, rel.id, rel.type)
                k = cis[group].attributes.get("min_members") if group in cis else None
                sub.min_members[group] = k if isinstance(k, int) and k > 0 else 1
        sub.sort()
        return sub

    async def impact(
        self, ci_ids: Sequence[str], kind: ImpactKind = ImpactKind.OUTAGE, max_depth: int = 10,
        relationship_types: Sequence[str] | None = None,
    ) -> ImpactReport:
        """Every CI that would be DOWN or DEGRADED if ``ci_ids`` went down.

        Each is explained by a shortest chain along which the failure really travels
        (every CI on it is affected; see :meth:`Subgraph.chains`), and its depth is
        that chain's length.
        """
        self._check(ci_ids, max_depth)
        forward, groups = self._types(relationship_types)
        reach = await self.store.closure(list(ci_ids), "in", forward, max_depth,
                                         reverse_types=groups)
        reached = [r.ci_id for r in reach.rows]
        cis = await self._cis(reached)
        missing = [i for i in ci_ids if i not in cis]
        if missing:
            raise NotFoundError(f"no CI with id {missing[0]!r}", id=missing[0], field="ciIds")
        changed = list(dict.fromkeys(ci_ids))
        sub = await self._subgraph(reached, forward, groups, cis)
        why = sub.explain(changed, max_depth)
        impacted = sorted(
            (ImpactedCI(cis[c], why.status[c], d, why.path(c))
             for c, d in why.depth.items() if c not in set(changed)),
            key=lambda i: (i.depth, i.ci.name, i.ci.id))
        services = [i for i in impacted
                    if self.registry.class_info(i.ci.class_name).is_a(SERVICE_CLASS)]
        notify = await self._notify([*changed, *(i.ci.id for i in impacted)], cis)
        return ImpactReport(kind, [cis[i] for i in ci_ids], impacted, services, notify,
                            reach.truncated or why.truncated, max_depth, cis)

    async def _notify(self, ids: Sequence[str], cis: dict[str, CI]) -> list[NotifyParty]:
        notify = self.registry.types_with_role(Role.OWNER, Role.MANAGER)
        links = await self.store.relationships_of(list(ids), "out", notify)
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

    async def _upstream(self, ci_id: str, max_depth: int, field_name: str
                        ) -> tuple[list[str], Subgraph, dict[str, CI]]:
        """What ``ci_id`` may need within ``max_depth``, and how failure flows among it."""
        forward, groups = self._types(None)
        reach = await self.store.closure([ci_id], "out", forward, max_depth,
                                         reverse_types=groups)
        if not reach.rows:
            raise NotFoundError(f"no CI with id {ci_id!r}", id=ci_id, field=field_name)
        ids = [r.ci_id for r in reach.rows]
        cis = await self._cis(ids)
        return ids, await self._subgraph(ids, forward, groups, cis), cis

    async def dependencies(
        self, ci_ids: Sequence[str], max_depth: int = 10
    ) -> list[Dependency]:
        """What the CIs need (upstream), shared dependencies first with who shares them.

        A CI is a dependency when its failure alone reaches the CI (redundancy
        honoured: a host in a cluster that survives losing it is not one); its depth
        is the length of the chain the failure travels.
        """
        self._check(ci_ids, max_depth)
        if len(ci_ids) > 50:
            raise LimitExceededError("at most 50 CIs at once", field="ciIds", limit=50)
        depth: dict[str, int] = {}
        shared: dict[str, list[str]] = defaultdict(list)
        cis: dict[str, CI] = {}
        for start in dict.fromkeys(ci_ids):
            ids, sub, found = await self._upstream(start, max_depth, "ciIds")
            cis.update(found)
            for candidate in ids:
                if candidate in ci_ids:
                    continue
                why = _reaching(sub, candidate, start, max_depth, Status.DEGRADED)
                if why is None:
                    continue
                shared[candidate].append(start)
                d = why.depth[start]
                depth[candidate] = min(depth.get(candidate, d), d)
        deps = [Dependency(cis[d], depth[d], [cis[s] for s in shared[d]]) for d in depth
                if d in cis]
        return sorted(deps, key=lambda d: (-len(d.shared_by), d.depth, d.ci.name, d.ci.id))

    async def single_points_of_failure(
        self, service_id: str, max_depth: int = MAX_DEPTH
    ) -> list[SinglePointOfFailure]:
        """CIs whose loss alone takes ``service_id`` DOWN, redundancy honoured, each with
        the chain along which its failure reaches the service (listed from the service)."""
        ids, sub, cis = await self._upstream(service_id, max_depth, "serviceId")
        fatal = single_points(sub, service_id, ids)  # which ones: one cheap search each
        out: list[SinglePointOfFailure] = []
        for candidate in ids:
            if candidate not in fatal:
                continue
            why = sub.explain([candidate], max_depth)  # how: only for those that are
            if why.status.get(service_id, Status.UP) is Status.DOWN and service_id in why.depth:
                # listed from the service down to the CI, as dependencies are read
                out.append(SinglePointOfFailure(cis[candidate], why.depth[service_id],
                                                why.path(service_id)[::-1], cis))
        return sorted(out, key=lambda s: (s.depth, s.ci.name, s.ci.id))


def _reaching(sub: Subgraph, failed: str, target: str, max_depth: int,
              at_least: Status) -> Explanation | None:
    """How the failure of ``failed`` alone reaches ``target`` at least ``at_least``
    (None when it does not)."""
    if sub.propagate([failed]).get(target, Status.UP) < at_least:
        return None  # the cheap test first: most candidates stop here
    why = sub.explain([failed], max_depth)
    if why.status.get(target, Status.UP) < at_least or target not in why.depth:
        return None
    return why
