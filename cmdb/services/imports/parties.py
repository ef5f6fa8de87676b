"""People and teams named in a sheet, linked to the CIs as relationships.

``schema/sources.yaml`` says which columns name a party (``parties:``): the class of
CI the value names (Person, Team) and the relationship that links the row's CI to it
(``OWNED_BY``, ``MANAGED_BY``). :class:`PartyLinker` plans, a chunk of the file at a
time, what each such cell becomes:

- the value is looked up among the registered people (or teams) by ``login``, then by
  name, then by ``aliases``, ignoring case, full/half width and spaces (``" 张 三"``
  is ``张三``, ``ＺＨＡＮＧＳＡＮ`` is ``zhangsan``); the first of these that finds
  anyone decides;
- two or more found: AMBIGUOUS, naming them, and no link;
- none found: the run registers it (CREATED, once however many rows name it) when the
  source registers CIs and the column allows it, else UNRESOLVED (naming row, column
  and value);
- the CI already linked to it: UNCHANGED; linked to someone else through this column:
  that relationship ends and the new one starts (LINKED), unless whoever set it takes
  precedence over the source (REFUSED).

Each relationship a run makes carries ``source`` and ``field`` (the column) in its
attributes: a later run knows which of a CI's ``MANAGED_BY`` relationships its column
set, and whose precedence applies. Placeholders (``无``, ``-``, ``待定``) link nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cmdb.model.queries import CIFacts, RelationshipEnds
from cmdb.model.records import new_id
from cmdb.model.registry import Registry
from cmdb.services.imports.outcomes import Difference, LinkOutcome, Outcome, PartyLink, Planned
from cmdb.services.imports.sources import PARTY_FIELDS, PartyColumn, SourcePolicy, SourcesConfig
from cmdb.store.base import Store
from importers import ColumnMapping, Observation
from importers.columns import ResolvedColumn, fold_header
from importers.placeholders import default_placeholders

#: What a sheet writes in an owner cell that names nobody (besides the placeholders of
#: names: 无, 暂无, -, N/A ...).
NOBODY = frozenset({"待定", "待分配", "未分配", "暂无", "无人", "空缺", "tbd", "tba"})
_SPACE = re.compile(r"\s+")
#: How many candidates an AMBIGUOUS outcome names in its reason, and keeps.
SHOWN = 5
MAX_CANDIDATES = 20
MEMO_LIMIT = 50_000


def party_key(text: str) -> str:
    """A value as people and teams are looked up: width folded (NFKC), case folded,
    every space removed."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text).casefold())


def party_name(text: str) -> str:
    """The name a new person or team gets from a cell: trimmed, inner spaces collapsed,
    and dropped altogether in a name without Latin letters (``张 三`` is ``张三``)."""
    name = _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return name if re.search(r"[A-Za-z]", name) else name.replace(" ", "")


def party_headers(config: SourcesConfig, mapping: ColumnMapping | None) -> ColumnMapping | None:
    """The user's column mapping with the party columns' headers added (a user's own
    entry for a header wins)."""
    extra = {h: (key if key in PARTY_FIELDS else f"attributes.{key}")
             for key, column in config.parties.items() for h in column.headers}
    if not extra:
        return mapping

    own = dict(mapping.columns) if mapping else {}
    folded = {fold_header(h) for h in own}
    merged = {**{h: t for h, t in extra.items() if fold_header(h) not in folded}, **own}
    return ColumnMapping(columns=merged,
                         unknown_headers=mapping.unknown_headers if mapping else "error")


@dataclass(frozen=True, slots=True)
class NewParty:
    """A person or team a run registers."""

    id: str
    class_name: str
    name: str


class PartyIndex:
    """The registered people and teams, by login, name and alias keys."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.facts: dict[str, CIFacts] = {}
        self.by: dict[str, dict[str, set[str]]] = {"login": {}, "name": {}, "alias": {}}
        #: Every key each party answers to.
        self.keys_of: dict[str, set[str]] = {}
        self.planned: dict[str, NewParty] = {}

    def _put(self, how: str, text: str, ci_id: str) -> None:
        key = party_key(text)
        self.by[how].setdefault(key, set()).add(ci_id)
        self.keys_of.setdefault(ci_id, set()).add(key)

    def add(self, ci_id: str, name: str, login: Any = None, aliases: Any = None) -> None:
        self._put("name", name, ci_id)
        if isinstance(login, str) and login.strip():
            self._put("login", login, ci_id)
        for alias in aliases if isinstance(aliases, list) else ():
            if isinstance(alias, str) and alias.strip():
                self._put("alias", alias, ci_id)

    def add_facts(self, facts: Iterable[CIFacts]) -> None:
        for f in facts:
            self.facts[f.id] = f
            self.add(f.id, f.name, f.attributes.get("login"), f.attributes.get("aliases"))

    def class_of(self, ci_id: str) -> str | None:
        f = self.facts.get(ci_id)
        if f is not None:
            return f.class_name
        p = self.planned.get(ci_id)
        return p.class_name if p else None

    def name_of(self, ci_id: str) -> str:
        f = self.facts.get(ci_id)
        if f is not None:
            return f.name
        p = self.planned.get(ci_id)
        return p.name if p else ci_id

    def matches(self, ci_id: str, key: str) -> bool:
        """Whether the party is named ``key`` (by login, name or alias)."""
        return key in self.keys_of.get(ci_id, ())

    def find(self, key: str, class_name: str) -> tuple[str, list[str]]:
        """Who ``key`` names among the CIs of ``class_name`` (and its subclasses): the
        first of login, name, alias that finds anyone, and what it found."""
        for how in ("login", "name", "alias"):
            ids = [i for i in self.by[how].get(key, ()) if self._is_a(i, class_name)]
            if ids:
                return how, sorted(ids, key=lambda i: (self.name_of(i), i))
        return "", []

    def _is_a(self, ci_id: str, class_name: str) -> bool:
        found = self.class_of(ci_id)
        return found is not None and self.registry.class_info(found).is_a(class_name)


class PartyLinker:
    """Plans the party columns of one run's rows (see the module's description)."""

    def __init__(self, store: Store, registry: Registry, config: SourcesConfig,
                 source: str, policy: SourcePolicy) -> None:
        self.store = store
        self.registry = registry
        self.config = config
        self.source = source
        self.policy = policy
        self.columns = {k: c for k, c in config.parties.items() if policy.is_authoritative(k)}
        self.types = sorted({c.relationship for c in self.columns.values()})
        self.index: PartyIndex | None = None
        #: Column labels (``责任人 (K)``) per field, as the sheet's header row named them.
        self.labels: dict[str, str] = {}
        self.placeholders = default_placeholders()
        self.single = {k: registry.relationship_type(c.relationship).single
                       for k, c in self.columns.items()}
        #: Cell text -> its lookup key ("" for a placeholder): sheets repeat a few names.
        self._keys: dict[str, str] = {}
        #: How many links of the run had each outcome (UNCHANGED ones are not listed).
        self.counts: Counter[str] = Counter()

    def columns_seen(self, columns: Sequence[ResolvedColumn]) -> None:
        """Remember how the sheet names each party column (``ParseOptions.on_columns``)."""
        for c in columns:
            if c.target is None:
                continue
            key = c.target.removeprefix("attributes.")
            if key in self.columns:
                self.labels[key] = c.label

    def _value(self, obs: Observation, key: str) -> str | None:
        raw: Any = getattr(obs, key) if key in PARTY_FIELDS else obs.attributes.get(key)
        if raw is None or isinstance(raw, bool):
            return None
        text = raw.strip() if isinstance(raw, str) else str(raw)
        found = self._keys.get(text)
        if found is None:
            if len(self._keys) > MEMO_LIMIT:
                self._keys.clear()
            k = party_key(text)
            placeholder = not k or k in NOBODY or self.placeholders.is_placeholder("name",
                                                                                  text)
            found = self._keys[text] = "" if placeholder else k
        return text if found else None

    async def _index(self) -> PartyIndex:
        if self.index is None:
            index = PartyIndex(self.registry)
            classes = sorted({c for column in self.columns.values()
                              for c in self.registry.descendants(column.class_name)})
            found = await self.store.find_ci_facts("class", classes, ["login", "aliases"])
            index.add_facts(f for facts in found.values() for f in facts)
            self.index = index
        return self.index

    async def plan(self, plans: Sequence[Planned]) -> None:
        """Give each row's plan its party links (and the differences they make)."""
        if not self.columns:
            return
        rows: list[tuple[Planned, list[tuple[str, PartyColumn, str]]]] = []
        for p in plans:
            o = p.observation
            if o is None or p.outcome in (Outcome.INVALID, Outcome.AMBIGUOUS) \
                    or (p.facts is None and p.create is None):
                continue
            state = p.facts.state if p.facts is not None else (
                p.create.state if p.create is not None else None)
            if any(s is not None and self.registry.is_terminal(s)
                   for s in (state, p.transition)):
                continue  # a disposed CI keeps no relationships
            named = [(k, c, v) for k, c in self.columns.items()
                     if (v := self._value(o, k)) is not None]
            if named:
                rows.append((p, named))
        if not rows:
            return
        index = await self._index()
        # What each CI is linked to now: (type, party) from the index first; the whole
        # relationships (which column made them, which source) only for the CIs a link
        # changes (a re-import of the same register has none). An unchanged link is
        # counted, not listed: the row says what changes or cannot be linked.
        linked = [p.facts.id for p, _ in rows if p.facts is not None]
        now = await self.store.linked_targets(linked, "out", self.types) if linked else {}
        keys_of = index.keys_of
        unchanged = 0
        todo: list[tuple[Planned, list[tuple[str, PartyColumn, str]]]] = []
        for p, named in rows:
            held = now.get(p.facts.id) if p.facts is not None else None
            if held:
                left = [(key, column, value) for key, column, value in named
                        if not any(t == column.relationship
                                   and self._keys[value] in keys_of.get(target, ())
                                   for t, target in held)]
                unchanged += len(named) - len(left)
                named = left
            if named:
                todo.append((p, named))
        if unchanged:
            self.counts[LinkOutcome.UNCHANGED.value] += unchanged
        changing = [p.facts.id for p, _ in todo if p.facts is not None]
        current = await self.store.relationship_ends(changing, "out", self.types) \
            if changing else {}
        for p, named in todo:
            rels = current.get(p.facts.id, []) if p.facts is not None else []
            for key, column, value in named:
                link = self._link(p, index, rels, key, column, value)
                self.counts[link.outcome.value] += 1
                p.parties.append(link)
            if p.facts is not None and p.outcome is Outcome.MATCHED:
                p.outcome = Outcome.MATCHED_WITH_DIFFERENCES

    def _link(self, p: Planned, index: PartyIndex, rels: list[RelationshipEnds], key: str,
              column: PartyColumn, value: str) -> PartyLink:
        rel_type = column.relationship
        k = self._keys[value]
        link = PartyLink(key, self.labels.get(key), value, rel_type, LinkOutcome.UNCHANGED)
        single = self.single[key]
        mine = [r for r in rels if r.type == rel_type
                and (single or r.attributes.get("field") == key)]
        registered = ", ".join(index.name_of(r.target_id) for r in mine) or None
        how, found = index.find(k, column.class_name)
        if len(found) > 1:
            link.outcome = LinkOutcome.AMBIGUOUS
            link.candidates = tuple(found[:MAX_CANDIDATES])
            shown = ", ".join(f"{index.name_of(i)} ({i})" for i in found[:SHOWN])
            link.reason = f"{len(found)} {column.class_name} CIs match {value!r} by {how}: " \
                + shown + (" ..." if len(found) > SHOWN else "")
        elif not found and not (column.create and self.policy.create):
            link.outcome = LinkOutcome.UNRESOLVED
            link.reason = (f"{self._where(p, link)}: no {column.class_name} is named "
                           f"{value!r} (login, name or alias); " + (
                               f"{self.source} does not register new CIs"
                               if not self.policy.create else
                               f"parties.{key} does not register new ones (create: false)"))
        else:
            if found:
                link.outcome, link.party_id = LinkOutcome.LINKED, found[0]
            else:
                link.outcome, link.party_id = LinkOutcome.CREATED, self._new(index, column,
                                                                             value)
            link.party_name = index.name_of(link.party_id)
            setters = [r.attributes.get("source") for r in mine]
            mine_priority = self.policy.priority_for(key)
            stronger = [s for s in setters if self.config.setter_priority(
                s if isinstance(s, str) else None, key) > mine_priority]
            if stronger:
                link.outcome = LinkOutcome.REFUSED
                link.reason = (f"linked to {registered} by {stronger[0] or 'hand'}, which "
                               "takes precedence")
                link.party_id = link.party_name = None
            else:
                link.replaces = tuple(r.id for r in mine)
        if p.facts is not None:
            p.differences.append(Difference(f"{rel_type}:{key}", registered, value,
                                            self.source, link.writes, link.reason))
        return link

    def _where(self, p: Planned, link: PartyLink) -> str:
        line = f"line {p.line}" if p.line is not None else f"record {p.record}"
        return f"{line}, column {link.column or link.field}"

    def _new(self, index: PartyIndex, column: PartyColumn, value: str) -> str:
        """A person or team this run registers, planned once per name."""
        party = NewParty(new_id(), column.class_name, party_name(value))
        index.planned[party.id] = party
        index.add(party.id, party.name)
        return party.id

    def needed(self, plans: Iterable[Planned]) -> list[NewParty]:
        """The planned people and teams that applied rows link to."""
        if self.index is None:
            return []
        planned = self.index.planned
        wanted = {link.party_id for p in plans
                  if p.outcome not in (Outcome.INVALID, Outcome.AMBIGUOUS)
                  for link in p.parties if link.writes and link.party_id in planned}
        return [party for pid, party in planned.items() if pid in wanted]
