"""Single points of failure: which CIs' loss alone takes a CI DOWN.

Asking "does X alone take the service DOWN?" once per CI upstream of a service, each
time propagating every status through the whole subgraph, costs the square of the
subgraph. Two facts make it cheap:

- only DOWN matters: a CI is DOWN when something it needs is DOWN, and a redundancy
  group when fewer than its ``min_members`` members are still up (a DEGRADED member is
  up), so DEGRADED never has to be propagated;
- losses are monotone: if X's loss takes Y DOWN, X's loss takes down everything Y's
  loss does. Once Y is known to take the service DOWN, a search from X stops as soon
  as it takes Y DOWN.

Asked nearest first, most searches stop one step away; the others end where
redundancy absorbs the loss.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cmdb.services.impact.graph import Subgraph


def single_points(sub: Subgraph, target: str, candidates: Iterable[str]) -> set[str]:
    """The ``candidates`` whose loss alone takes ``target`` DOWN, within ``sub``."""
    fatal = {target}
    for start in candidates:
        if start in fatal or _takes_down(sub, start, fatal):
            fatal.add(start)
    fatal.discard(target)
    return fatal


def _takes_down(sub: Subgraph, start: str, fatal: set[str]) -> bool:
    """Whether ``start``'s loss takes down any CI of ``fatal``."""
    down = {start}
    queue = [start]
    lost: Counter[str] = Counter()
    while queue:
        node = queue.pop()
        falling = list(sub.dependents.get(node, ()))
        for group in sub.groups_of.get(node, ()):
            lost[group] += 1
            members = sub.members.get(group, ())
            if len(members) - lost[group] < sub.min_members.get(group, 1):
                falling.append(group)
        for other in falling:
            if other in down:
                continue
            if other in fatal:
                return True
            down.add(other)
            queue.append(other)
    return False
