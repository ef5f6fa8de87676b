"""The impact drawn as a picture: an impact report laid out as positioned nodes and edges.

A layered (Sugiyama-style) drawing, left to right: the changed CIs in the first
column, each impacted CI in the column of its depth (the length of the chain along
which the failure reaches it), the people and teams to notify in a last column. The
edges are the explanations' last steps (each impacted CI and the CI it is reached
from, labelled with the relationship's type), so every edge joins two neighbouring
columns and the drawing needs no dummy nodes. The order within each column is found
by barycentre sweeps (each node moved towards the mean position of its neighbours in
the column before, then after), keeping the order with the fewest crossings.

Large reports stay readable: above ``threshold`` impacted CIs, the CIs of a column are
grouped by class (or by location) into one cluster node showing how many are DOWN and
DEGRADED; a group named in ``expanded`` is drawn CI by CI. The changed CIs are never
grouped, nor the business services unless there are more than ``MOST_SHOWN``; at most
``MOST_SHOWN`` of the people to notify are drawn, then a node counting the others.
The output depends on the report only (every order has a tie-break on ids), so the
same report always gives the same picture.

Nothing here knows HTTP or markup: the page renders :class:`Picture` through a
template.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote

from cmdb.services.impact.graph import Status
from cmdb.services.impact.service import ImpactReport

THRESHOLD = 60
"""Above this many impacted CIs, a column's CIs are grouped (unless expanded)."""
MOST_SHOWN = 20
"""Above this many, the business services are grouped too, and only this many of the
people to notify are drawn (those concerned by the most CIs; the page lists them all)."""
SWEEPS = 6
NODE_W, NODE_H = 196, 46
GAP_X, GAP_Y = 120, 16
MARGIN = 24
LABEL_WIDTH = 24
"""How many columns of text a node's name gets (a CJK character takes two)."""


class GroupBy(StrEnum):
    CLASS = "class"
    LOCATION = "location"


class NodeKind(StrEnum):
    CHANGED = "changed"
    CI = "ci"
    GROUP = "group"
    PARTY = "party"


@dataclass
class Node:
    key: str
    kind: NodeKind
    layer: int
    label: str
    """The name as drawn (shortened to fit); ``title`` has it in full."""
    sub: str
    """The second line: the class, or a group's counts, or a party's roles."""
    title: str
    href: str
    status: str | None = None
    """DOWN or DEGRADED (a group: its worst member's)."""
    service: bool = False
    down: int = 0
    degraded: int = 0
    rank: int = 0
    """Orders nodes a column would otherwise take as equal (people: most concerned first)."""
    x: int = 0
    y: int = 0
    w: int = NODE_W
    h: int = NODE_H

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2


@dataclass
class Edge:
    source: str
    target: str
    type: str
    count: int = 1
    status: str | None = None
    x1: int = 0
    y1: int = 0
    x2: int = 0
    y2: int = 0

    @property
    def label(self) -> str:
        return self.type if self.count == 1 else f"{self.type} ×{self.count}"

    @property
    def lx(self) -> int:
        """Where the label goes: the middle of the line."""
        return (self.x1 + self.x2) // 2

    @property
    def ly(self) -> int:
        return (self.y1 + self.y2) // 2 - 4


@dataclass
class Picture:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    grouped: bool
    """True when some CIs are drawn as groups."""
    group_by: GroupBy
    crossings: int
    groups: list[Node] = field(default_factory=list)


def text_width(text: str) -> int:
    """Columns ``text`` takes: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shorten(text: str, width: int = LABEL_WIDTH) -> str:
    """``text`` cut to ``width`` columns with an ellipsis when it is longer."""
    if text_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def ci_href(ci_id: str) -> str:
    return f"/cis/{quote(ci_id, safe='')}"


def layout(report: ImpactReport, *, class_label: Callable[[str], str] = str,
           locations: Mapping[str, str] | None = None,
           group_by: GroupBy = GroupBy.CLASS, expanded: Sequence[str] = (),
           threshold: int = THRESHOLD,
           expand_href: Callable[[str], str] = lambda key: f"?expand={key}",
           words: Mapping[str, str] | None = None) -> Picture:
    """Lay ``report`` out (see the module's docstring).

    ``class_label`` names a class for the reader; ``locations`` maps CI ids to the place
    they are in (for grouping by location); ``expand_href`` makes the link that draws a
    group CI by CI; ``words`` gives the few words drawn (``down``, ``degraded``,
    ``cis``, ``nowhere``, ``more``) in the reader's language.
    """
    w = {"down": "DOWN", "degraded": "DEGRADED", "cis": "CIs", "nowhere": "(no location)",
         "more": "more to notify", **(words or {})}
    nodes: dict[str, Node] = {}
    where: dict[str, str] = {}
    """CI id -> the key of the node it is drawn in."""
    services = {s.ci.id for s in report.services}
    changed_ids = [c.id for c in report.changed]
    for ci in report.changed:
        if ci.id not in nodes:
            nodes[ci.id] = Node(ci.id, NodeKind.CHANGED, 0, shorten(ci.name),
                                class_label(ci.class_name), f"{ci.name} ({ci.class_name})",
                                ci_href(ci.id))
            where[ci.id] = ci.id
    grouping = len(report.impacted) > threshold
    alone = services if len(services) <= MOST_SHOWN else set()
    open_groups = set(expanded)

    def group_of(ci_id: str, class_name: str) -> str:
        if group_by is GroupBy.LOCATION:
            return (locations or {}).get(ci_id) or w["nowhere"]
        return class_name

    members: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, item in enumerate(report.impacted):
        if item.ci.id in where:
            continue
        name = group_of(item.ci.id, item.ci.class_name)
        if grouping and item.ci.id not in alone and name not in open_groups:
            members[(item.depth, name)].append(i)
    single = {m[0] for m in members.values() if len(m) == 1}  # a group of one: the CI itself
    for (depth, name), idx in sorted(members.items()):
        if len(idx) == 1:
            continue
        key = f"group:{depth}:{name}"
        down = sum(1 for i in idx if report.impacted[i].status is Status.DOWN)
        degraded = len(idx) - down
        label = class_label(name) if group_by is GroupBy.CLASS else name
        counts = [f"{w['down']} {down}" if down else "", f"{w['degraded']} {degraded}"
                  if degraded else ""]
        nodes[key] = Node(key, NodeKind.GROUP, depth, shorten(f"{label} ×{len(idx)}"),
                          " · ".join(c for c in counts if c),
                          f"{label}: {len(idx)} {w['cis']}", expand_href(name),
                          "DOWN" if down else "DEGRADED", down=down, degraded=degraded,
                          service=all(report.impacted[i].ci.id in services for i in idx))
        for i in idx:
            where[report.impacted[i].ci.id] = key
    for i, item in enumerate(report.impacted):
        ci = item.ci
        if ci.id in where and i not in single:
            continue
        nodes[ci.id] = Node(ci.id, NodeKind.CI, item.depth, shorten(ci.name),
                            class_label(ci.class_name),
                            f"{ci.name} ({ci.class_name}, {item.status.name})",
                            ci_href(ci.id), item.status.name, service=ci.id in services)
        where[ci.id] = ci.id

    edges: dict[tuple[str, str, str], Edge] = {}
    for item in report.impacted:
        near = item.reached_from
        if near is None or near not in where or not item.path:
            continue
        a, b = where[near], where[item.ci.id]
        if a == b:
            continue
        k = (a, b, item.path[-1].type)
        e = edges.get(k)
        if e is None:
            edges[k] = Edge(a, b, k[2], status=item.status.name)
        else:
            e.count += 1
            if item.status is Status.DOWN:
                e.status = "DOWN"

    last = max((n.layer for n in nodes.values()), default=0) + 1
    parties = [p for p in report.notify if p.party.id not in nodes]
    shown = parties if len(parties) <= MOST_SHOWN else parties[:MOST_SHOWN - 1]
    for rank, party in enumerate(shown):
        nodes[party.party.id] = Node(
            party.party.id, NodeKind.PARTY, last, shorten(party.party.name),
            f"{'/'.join(party.roles)} · {len(party.cis)}",
            f"{party.party.name}: {', '.join(party.roles)} ({len(party.cis)} {w['cis']})",
            ci_href(party.party.id), rank=rank)
    if len(shown) < len(parties):
        more = len(parties) - len(shown)
        nodes["notify:more"] = Node("notify:more", NodeKind.PARTY, last, f"+{more}",
                                    w["more"], f"+{more}", "#impact-notify", rank=len(shown))

    layers = _order(nodes, list(edges.values()), changed_ids)
    crossings = _place(nodes, list(edges.values()), layers)
    height = max((len(col) for col in layers), default=0) * (NODE_H + GAP_Y) - GAP_Y
    width = len(layers) * (NODE_W + GAP_X) - GAP_X
    drawn = [n for col in layers for n in col]
    return Picture(drawn, sorted(edges.values(), key=lambda e: (e.source, e.target, e.type)),
                   max(width, 0) + 2 * MARGIN, max(height, 0) + 2 * MARGIN, grouping,
                   group_by, crossings, [n for n in drawn if n.kind is NodeKind.GROUP])


def _rank(node: Node) -> tuple[int, int, int, int, str, str]:
    """The order a column starts in: changed, services, DOWN, then by name."""
    return (0 if node.kind is NodeKind.CHANGED else 1, 0 if node.service else 1,
            0 if node.status == "DOWN" else 1, node.rank, node.label, node.key)


def _order(nodes: dict[str, Node], edges: list[Edge], changed: list[str]) -> list[list[Node]]:
    """The nodes of each column, in the order with the fewest crossings the sweeps find."""
    count = max((n.layer for n in nodes.values()), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for n in sorted(nodes.values(), key=_rank):
        layers[n.layer].append(n.key)
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        down[e.source].append(e.target)
        up[e.target].append(e.source)
    first = {k: i for i, k in enumerate(changed)}
    layers[0].sort(key=lambda k: (first.get(k, len(first)), _rank(nodes[k])))

    pos: dict[str, float] = {}
    for col in layers:
        pos.update((k, float(i)) for i, k in enumerate(col))

    def sweep(col: list[str], near: dict[str, list[str]]) -> list[str]:
        def key(k: str) -> tuple[float, float, tuple[int, int, int, int, str, str]]:
            ns = near.get(k)
            bary = sum(pos[n] for n in ns) / len(ns) if ns else pos[k]
            return (bary, pos[k], _rank(nodes[k]))
        out = sorted(col, key=key)
        pos.update((k, float(i)) for i, k in enumerate(out))
        return out

    # The first downward sweep places each column under its parents.
    for i in range(1, count):
        layers[i] = sweep(layers[i], up)
    best = [list(c) for c in layers]
    best_cross = _crossings(layers, edges)
    for _ in range(SWEEPS):
        if best_cross == 0:
            break
        for i in range(count - 2, -1, -1):
            layers[i] = sweep(layers[i], down)
        for i in range(1, count):
            layers[i] = sweep(layers[i], up)
        now = _crossings(layers, edges)
        if now < best_cross:
            best, best_cross = [list(c) for c in layers], now
        else:
            break
    return [[nodes[k] for k in col] for col in best]


def _crossings(layers: list[list[str]], edges: list[Edge]) -> int:
    """How many pairs of edges cross: inversions between neighbouring columns."""
    index = {k: i for col in layers for i, k in enumerate(col)}
    by_layer: dict[int, list[tuple[int, int]]] = defaultdict(list)
    layer_of = {k: li for li, col in enumerate(layers) for k in col}
    for e in edges:
        by_layer[layer_of[e.source]].append((index[e.source], index[e.target]))
    total = 0
    for pairs in by_layer.values():
        pairs.sort()
        seen: list[int] = []
        # pairs in source order: a later edge crosses each earlier one ending below it
        for _s, t in pairs:
            at = bisect_left(seen, t + 1)
            total += len(seen) - at
            seen.insert(at, t)
    return total


def _place(nodes: dict[str, Node], edges: list[Edge], layers: list[list[Node]]) -> int:
    """Coordinates: columns left to right, each column centred on the tallest."""
    tallest = max((len(col) for col in layers), default=0)
    for li, col in enumerate(layers):
        offset = (tallest - len(col)) * (NODE_H + GAP_Y) // 2
        for i, n in enumerate(col):
            n.x = MARGIN + li * (NODE_W + GAP_X)
            n.y = MARGIN + offset + i * (NODE_H + GAP_Y)
    for e in edges:
        a, b = nodes[e.source], nodes[e.target]
        e.x1, e.y1, e.x2, e.y2 = a.x + a.w, a.cy, b.x, b.cy
    return _crossings([[n.key for n in col] for col in layers], edges)
