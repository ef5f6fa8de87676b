"""Identification: which registered CI an observation is about, by ordered rules.

The rules (``schema/sources.yaml``: the CI's own id, asset tag, serial number within its
manufacturer, MAC address, host name / FQDN) are tried in order. The first rule
for which the observation has a value and the register has a candidate decides:
one candidate is a match, two or more make the observation AMBIGUOUS, never a
guess. Placeholders never identify: the importers already turned them into
``None`` (an empty VM BIOS serial is no serial at all).

Two ways to look candidates up, with the same answers: :class:`PointLookup` asks
the store per chunk (one question for all its asset tags, one for its serials; one
per MAC or host name: small files), :class:`ScanIndex` reads every
CI once and answers from memory (large files, where thousands of questions would
cost more than one pass). The keys an observation offers and a CI answers with are
computed in one place each (:func:`observed_keys`, :func:`registered_keys`): a new
rule or normalisation goes there. A MAC identifies only when universally administered
and unicast (:func:`~importers.normalise.is_identifying_mac`), on both sides; a
serial's manufacturer is read through the vendor table (``Vendors.normalise``), as
every write stores it.
"""

from __future__ import annotations

import asyncio
from asyncio import Future
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from cmdb.model.queries import AttributeMatch, CIFacts, CIOrder, CISelection, FactKey
from cmdb.model.records import serial_key
from cmdb.model.vendors import Vendors
from cmdb.services.imports.sources import Rule
from cmdb.store.base import Store
from importers import Observation
from importers.normalise import is_identifying_mac

CANDIDATE_LIMIT = 20
#: Questions asked ahead at most (the next chunk's, while this one is compared).
AHEAD = 2
Facts = dict[str, list[CIFacts]]
#: No candidate (shared, never changed).
NONE: set[str] = set()


def _id_keys(obs: Observation) -> list[str]:
    return [obs.ci_id] if obs.ci_id else []


def _tag_keys(obs: Observation) -> list[str]:
    return [obs.asset_tag] if obs.asset_tag else []


def _serial_keys(obs: Observation, vendors: Vendors | None = None) -> list[str]:
    maker = obs.manufacturer
    if maker is not None and vendors is not None:
        maker = vendors.normalise(maker)  # 戴尔 and "Dell Inc." are Dell, as stored
    key = serial_key(maker, obs.serial_number)
    return [key] if key else []


def _mac_keys(obs: Observation) -> list[str]:
    return [m for m in obs.mac_addresses if is_identifying_mac(m)]


def _name_keys(obs: Observation) -> list[str]:
    names = [*obs.hostnames, obs.fqdn] if obs.fqdn else obs.hostnames
    if len(names) == 1:
        return [names[0].lower()]
    return list(dict.fromkeys([n.lower() for n in names]))


#: What each rule reads of an observation, normalised as the register keeps it.
OFFERED: dict[str, Callable[[Observation], list[str]]] = {
    "id": _id_keys, "asset_tag": _tag_keys, "serial_number": _serial_keys,
    "mac_addresses": _mac_keys, "hostnames": _name_keys}


def observed_keys(obs: Observation, rule: Rule, vendors: Vendors | None = None) -> list[str]:
    """The values an observation offers to ``rule``, normalised as the register keeps them
    (the manufacturer of a serial read through ``vendors``, the table every write uses)."""
    return _serial_keys(obs, vendors) if rule == "serial_number" else OFFERED[rule](obs)


def offered_keys(obs: Observation, rules: Sequence[Rule],
                 vendors: Vendors | None = None) -> dict[str, list[str]]:
    """:func:`observed_keys` for each of ``rules``, in their order."""
    return {rule: _serial_keys(obs, vendors) if rule == "serial_number" else OFFERED[rule](obs)
            for rule in rules}


class Registered(Protocol):
    """A registered CI as identification sees it (a CI record, or its facts)."""

    @property
    def id(self) -> str: ...
    @property
    def asset_tag(self) -> str | None: ...
    @property
    def serial_key(self) -> str | None: ...
    @property
    def attributes(self) -> dict[str, Any]: ...


def registered_keys(ci: Registered, rule: Rule) -> list[str]:
    """The values a registered CI answers ``rule`` with."""
    if rule == "id":
        return [ci.id]
    if rule == "asset_tag":
        return [ci.asset_tag] if ci.asset_tag else []
    if rule == "serial_number":
        return [ci.serial_key] if ci.serial_key else []
    return attribute_keys(ci.attributes, rule)


#: The rules the store answers through an index, and the key it looks them up by.
INDEXED: dict[str, FactKey] = {"id": "id", "asset_tag": "asset_tag",
                               "serial_number": "serial_key"}
#: The attributes the attribute-based rules read.
RULE_ATTRIBUTES: dict[str, tuple[str, ...]] = {"mac_addresses": ("mac_addresses",),
                                               "hostnames": ("hostnames", "fqdn")}


def attribute_keys(attrs: dict[str, Any], rule: Rule) -> list[str]:
    """The values a CI with these attributes answers a MAC or host-name rule with."""
    if rule == "mac_addresses":
        # Kept, but never identifying: locally administered, multicast, all zero.
        return [m for m in _as_list(attrs.get("mac_addresses"))
                if isinstance(m, str) and is_identifying_mac(m)]
    names = [*_as_list(attrs.get("hostnames")), attrs.get("fqdn")]
    return [n.lower() for n in names if isinstance(n, str) and n]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Identification(NamedTuple):
    """The answer for one observation: the candidates, and the rule that found them."""

    ci_ids: tuple[str, ...] = ()
    rule: Rule | None = None
    value: str | None = None

    @property
    def ambiguous(self) -> bool:
        return len(self.ci_ids) > 1

    @property
    def ci_id(self) -> str | None:
        return self.ci_ids[0] if len(self.ci_ids) == 1 else None


NOT_FOUND = Identification()


class Lookup(Protocol):
    """Where candidates come from: the ids of CIs answering ``rule`` with ``value``."""

    async def candidates(self, rule: Rule, values: Sequence[str]) -> dict[str, set[str]]: ...


@dataclass
class ScanIndex:
    """Every CI's identifying values, read in one pass over the store."""

    keys: dict[Rule, dict[str, set[str]]] = field(default_factory=dict)
    size: int = 0

    @classmethod
    async def build(cls, store: Store, rules: Iterable[Rule]) -> ScanIndex:
        """MACs and host names: the store reads just those attributes of every CI."""
        wanted = tuple(r for r in rules if r in RULE_ATTRIBUTES)
        index = cls({rule: defaultdict(set) for rule in wanted})
        names = [n for r in wanted for n in RULE_ATTRIBUTES[r]]
        for ci_id, attrs in await store.attribute_values(names):
            index.size += 1
            for rule in wanted:
                for key in attribute_keys(attrs, rule):
                    index.keys[rule][key].add(ci_id)
        return index

    async def candidates(self, rule: Rule, values: Sequence[str]) -> dict[str, set[str]]:
        table = self.keys.get(rule, {})
        return {v: set(table[v]) for v in values if v in table}


class PointLookup:
    """Store questions (cached): all of a chunk's asset tags, or serials, in one question
    through the unique indexes; MACs and host names one query each."""

    def __init__(self, store: Store) -> None:
        self.store = store
        #: Per rule, the candidates of each value asked (cleared by the caller per chunk).
        self.cache: dict[Rule, dict[str, set[str]]] = {}
        #: The facts of the CIs the questions returned, so the caller need not read
        #: them again; with the values of these attributes (all when ``None``).
        self.found: dict[str, CIFacts] = {}
        self.attributes: Sequence[str] | None = None
        #: Asset-tag questions already sent for the chunks to come (see :meth:`ask_ahead`),
        #: by the tags they ask about.
        self.ahead: dict[frozenset[str], tuple[tuple[str, ...], Future[Facts]]] = {}

    def ask_ahead(self, tags: Sequence[str], attributes: Sequence[str]) -> None:
        """Send a coming chunk's asset-tag question now, so the store (a server on the
        other core) answers it while this chunk is compared; :meth:`candidates` takes
        the answer when it asks that very question."""
        if tags:
            while len(self.ahead) >= AHEAD:
                self._forget(next(iter(self.ahead)))
            self.ahead[frozenset(tags)] = (tuple(attributes), asyncio.ensure_future(
                self.store.find_ci_facts("asset_tag", tags, attributes)))

    def _forget(self, key: frozenset[str]) -> None:
        task = self.ahead.pop(key)[1]
        task.cancel()
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: the error of a question nobody needs

    def forget_ahead(self) -> None:
        """Drop the answers nobody will take (the run ended)."""
        for key in list(self.ahead):
            self._forget(key)

    async def _answered(self, values: Sequence[str]) -> Facts | None:
        """The answer of a question asked ahead, when it is this one."""
        key = frozenset(values)
        if key not in self.ahead:
            return None
        attributes, task = self.ahead[key]
        if attributes != tuple(self.attributes or ()):
            self._forget(key)
            return None
        del self.ahead[key]
        return await task

    async def _ask(self, rule: Rule, value: str) -> set[str]:
        """MACs and host names: the store can only find them with a query per value."""
        names = ("mac_addresses",) if rule == "mac_addresses" else ("hostnames", "fqdn")
        out: set[str] = set()
        for name in names:
            selection = CISelection(attributes=(AttributeMatch(name, value),))
            page = await self.store.list_cis(selection, CIOrder(), CANDIDATE_LIMIT, None)
            out.update(ci.id for ci in page.items if value in registered_keys(ci, rule))
        return out

    def take(self, ids: Sequence[str]) -> dict[str, CIFacts]:
        """The facts among ``ids`` already read (and forgotten, to keep memory bounded)."""
        found = self.found
        return {i: found.pop(i) for i in ids if i in found}

    async def _indexed(self, rule: Rule, values: Sequence[str]) -> dict[str, set[str]]:
        """Asset tags or serial keys through the store's unique indexes, all in one
        question; the CIs' facts come with the answer."""
        found = await self._answered(values) if rule == "asset_tag" else None
        if found is None:
            found = await self.store.find_ci_facts(INDEXED[rule], values, self.attributes)
        out: dict[str, set[str]] = dict.fromkeys(values, NONE)
        known = self.found
        for value, held in found.items():
            for facts in held:
                known[facts.id] = facts
            out[value] = {f.id for f in held}
        return out

    async def candidates(self, rule: Rule, values: Sequence[str]) -> dict[str, set[str]]:
        cache = self.cache.get(rule)
        if cache is None:
            cache = self.cache[rule] = {}
        todo = [v for v in values if v not in cache]
        if todo and rule in INDEXED:
            cache.update(await self._indexed(rule, todo))
        elif todo:
            for value in todo:
                cache[value] = await self._ask(rule, value)
        return {v: ids for v in values if (ids := cache[v])}


class HybridLookup:
    """Point questions for the indexed keys (asset tag, serial); for MACs and host names,
    which the store can only find by scanning, point questions while they are few and
    one pass over the store (then memory) once a chunk needs more than ``scan_after``."""

    def __init__(self, store: Store, rules: Sequence[Rule], scan_after: int = 20) -> None:
        self.store = store
        self.rules = tuple(rules)
        self.scan_after = scan_after
        self.point = PointLookup(store)
        self.scan: ScanIndex | None = None

    async def candidates(self, rule: Rule, values: Sequence[str]) -> dict[str, set[str]]:
        if rule in INDEXED:
            return await self.point.candidates(rule, values)
        if self.scan is None and len(values) > self.scan_after:
            self.scan = await ScanIndex.build(
                self.store, [r for r in self.rules if r not in INDEXED])
        if self.scan is not None:
            return await self.scan.candidates(rule, values)
        return await self.point.candidates(rule, values)


async def identify(
    observations: Sequence[Observation], rules: Sequence[Rule], lookup: Lookup,
    keys: Sequence[Mapping[str, list[str]]] | None = None, vendors: Vendors | None = None,
) -> list[Identification]:
    """Identify each observation by the first rule that finds a candidate (``keys``: each
    observation's :func:`observed_keys` per rule, when the caller has them already)."""
    offered = keys if keys is not None else [offered_keys(o, rules, vendors)
                                             for o in observations]
    results: list[Identification | None] = [None] * len(observations)
    for rule in rules:
        pending = [(i, offered[i][rule]) for i in range(len(observations))
                   if results[i] is None and offered[i][rule]]
        wanted = sorted({k for _, ks in pending for k in ks})
        if not wanted:
            continue
        found = await lookup.candidates(rule, wanted)
        for i, ks in pending:
            ids: set[str] = set()
            hit = None
            for key in ks:
                if key in found:
                    ids |= found[key]
                    hit = hit or key
            if ids:
                results[i] = Identification(
                    tuple(sorted(ids)) if len(ids) > 1 else tuple(ids), rule, hit)
    return [r or NOT_FOUND for r in results]
