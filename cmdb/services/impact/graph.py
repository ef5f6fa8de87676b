"""The part of the graph an impact question reaches, and how failure travels in it.

Pure data and algorithms (no store): the impact service fills a :class:`Subgraph` from
the store, and single points of failure (:mod:`cmdb.services.impact.spof`) are found by
failing CIs in it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum


class Status(IntEnum):
    """How badly a CI is hit; the larger wins when it is reached several ways."""

    UP = 0
    DEGRADED = 1
    DOWN = 2


@dataclass(frozen=True)
class PathStep:
    """One relationship of an explanation: ``source`` TYPE ``target``."""

    relationship_id: str
    type: str
    source_id: str
    target_id: str


@dataclass(frozen=True)
class Carrier:
    """A relationship along which failure travels from one CI into another."""

    to: str
    step: PathStep
    membership: bool
    """The step enters a redundancy group from one of its members."""


@dataclass
class Explanation:
    """Statuses worked out for some failed CIs, with how the failure reaches each one."""

    status: dict[str, Status]
    depth: dict[str, int]
    via: dict[str, tuple[str, PathStep]]
    """For each reached CI: the CI one step closer to the failed ones, and the step."""
    truncated: bool = False

    def path(self, ci_id: str) -> list[PathStep]:
        steps: list[PathStep] = []
        while ci_id in self.via:
            ci_id, step = self.via[ci_id]
            steps.append(step)
        return steps[::-1]


@dataclass
class Subgraph:
    """The part of the graph a question reaches, with what propagates within it."""

    needs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    dependents: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    groups_of: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    min_members: dict[str, int] = field(default_factory=dict)
    carriers: dict[str, list[Carrier]] = field(default_factory=lambda: defaultdict(list))
    """For each CI, the relationships its failure travels along, in a stable order."""

    def add_dependency(self, dependent: str, needed: str, rel_id: str, type_: str) -> None:
        """``dependent -[type_]-> needed``: failure travels from ``needed`` to ``dependent``."""
        self.needs[dependent].add(needed)
        self.dependents[needed].add(dependent)
        self.carriers[needed].append(
            Carrier(dependent, PathStep(rel_id, type_, dependent, needed), False))

    def add_member(self, member: str, group: str, rel_id: str, type_: str) -> None:
        """``member -[type_]-> group``: the group counts the member's loss."""
        self.groups_of[member].add(group)
        self.carriers[member].append(
            Carrier(group, PathStep(rel_id, type_, member, group), True))

    def sort(self) -> None:
        """Make explanations independent of the order the store returned relationships in."""
        for carriers in self.carriers.values():
            carriers.sort(key=lambda c: (c.to, c.step.relationship_id))

    def propagate(self, failed: Iterable[str],
                  cut: frozenset[str] = frozenset()) -> dict[str, Status]:
        """Statuses after ``failed`` go DOWN: a worklist that only visits what changes.

        CIs in ``cut`` are taken as up whatever reaches them (failure does not get there).
        """
        status: dict[str, Status] = {}
        queue: deque[str] = deque()
        for f in failed:
            status[f] = Status.DOWN
            queue.append(f)
        fixed = set(status) | cut
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

    def chains(self, status: dict[str, Status], failed: Sequence[str]
               ) -> tuple[dict[str, int], dict[str, tuple[str, PathStep]]]:
        """The shortest chain along which the failure really travels to each CI.

        Breadth first from ``failed``, through affected CIs only: a dependency step
        carries a status at least as bad as the one it explains (so a DOWN CI is
        explained by DOWN CIs all the way), and a redundancy group is entered from a
        member only when that member is lost (DOWN).
        """
        depth = dict.fromkeys(failed, 0)
        via: dict[str, tuple[str, PathStep]] = {}
        queue = deque(failed)
        while queue:
            node = queue.popleft()
            carried = status[node]
            for c in self.carriers.get(node, ()):
                if c.to in depth:
                    continue
                got = status.get(c.to, Status.UP)
                if got is Status.UP:
                    continue
                if (carried is not Status.DOWN) if c.membership else carried < got:
                    continue
                depth[c.to] = depth[node] + 1
                via[c.to] = (node, c.step)
                queue.append(c.to)
        return depth, via

    def explain(self, failed: Sequence[str], max_depth: int) -> Explanation:
        """Statuses and explanations when ``failed`` go down, failure travelling at most
        ``max_depth`` relationships: a CI whose every chain is longer is taken as up, and
        the statuses are worked out again without it (``truncated`` says so)."""
        cut: frozenset[str] = frozenset()
        while True:
            status = self.propagate(failed, cut)
            depth, via = self.chains(status, failed)
            beyond = {c for c, s in status.items()
                      if s is not Status.UP and depth.get(c, max_depth + 1) > max_depth}
            if not beyond:
                return Explanation(status, depth, via, truncated=bool(cut))
            cut |= beyond
