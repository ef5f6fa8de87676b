"""Reconciliation: compare an identified observation with the register and plan the change.

Rules (``schema/sources.yaml`` says which source may do what):

- a null or missing observed value never overwrites a registered one;
- a source sets a field only when it is authoritative for it and its priority is
  at least that of whoever set the current value (no provenance: set by hand);
  the other differences are still reported, with ``applied: false``;
- class and state hints resolve through the names and aliases in ``schema/``
  (服务器, 笔记本电脑, 在用, 库存 ...); a state change must be a lifecycle move;
- a location path resolves to the place hierarchy (:mod:`cmdb.services.cis.places`); an
  inspection scan naming a place that is not registered is INVALID;
- a manufacturer is compared and written as the vendor table names it
  (``schema/vendors.yaml``: 戴尔, DELL and "Dell Inc." are ``Dell``; identification reads
  it so too), and what the source wrote stays in the provenance of the value it sets;
- discovery sources never create CIs unless configured: NEW is reported only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from cmdb.errors import CmdbError
from cmdb.model.attributes import check_attributes, check_required
from cmdb.model.clock import Clock
from cmdb.model.definitions import AttributeType
from cmdb.model.queries import CIFacts
from cmdb.model.records import Provenance
from cmdb.model.registry import ClassInfo, Registry
from cmdb.services.cis.inputs import NewCI, checked_changes
from cmdb.services.cis.places import PlaceResolver
from cmdb.services.imports.admission import observation_problem
from cmdb.services.imports.identify import Identification
from cmdb.services.imports.outcomes import Difference, Outcome, Planned, SoftwarePlan, ip_text
from cmdb.services.imports.sources import SourcePolicy, SourcesConfig
from importers import Observation

CORE = ("name", "asset_tag", "serial_number")
MEMO_LIMIT = 50_000
MISSING: Any = object()
#: Observation fields its model has already normalised, with the attribute type they
#: satisfy (a class declaring another type gets them checked as usual).
PRECHECKED = {"mac_addresses": AttributeType.MAC, "ip_addresses": AttributeType.IP,
              "purchase_date": AttributeType.DATE, "warranty_end": AttributeType.DATE}


#: A CSV cell is text: ``8`` in a column of an integer attribute means the number.
NUMERIC = (AttributeType.INTEGER, AttributeType.NUMBER)


def _number(text: str) -> Any:
    """``text`` as the number it spells (else as it is, for the check to refuse)."""
    for kind in (int, float):
        try:
            return kind(text.strip())
        except ValueError:
            continue
    return text


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


#: The attributes :func:`observed_values` may name, besides an observation's own ones.
OBSERVED = ("manufacturer", "model", "mac_addresses", "ip_addresses", "hostnames", "fqdn",
            "os_name", "os_version", "purchase_date", "warranty_end", "department", "note",
            "custodian")


def compared_attributes(observations: Sequence[Observation], source: str) -> list[str]:
    """The registered attributes reconciling these observations may read: all it needs
    of a matched CI's attributes (the maker is among them: serials are kept per maker)."""
    extra = {k for o in observations for k in o.attributes} - set(OBSERVED)
    return [*OBSERVED, *sorted(extra), f"last_seen_{source}"]


def observed_values(obs: Observation) -> dict[str, Any]:
    """The fields an observation states, as the register names them (nulls left out)."""
    # Spelled out field by field: this runs for every record of every file.
    d = obs.__dict__
    out: dict[str, Any] = {}
    tag, serial, hostnames, fqdn = d["asset_tag"], d["serial_number"], d["hostnames"], d["fqdn"]
    name = d["name"] or fqdn or (hostnames[0] if hostnames else None) or tag or serial
    if name:
        out["name"] = name
    if tag:
        out["asset_tag"] = tag
    if serial:
        out["serial_number"] = serial
    if value := d["manufacturer"]:
        out["manufacturer"] = value
    if value := d["model"]:
        out["model"] = value
    if value := d["mac_addresses"]:
        out["mac_addresses"] = value
    if value := d["ip_addresses"]:
        out["ip_addresses"] = [ip_text(ip) for ip in value]
    if hostnames:
        out["hostnames"] = hostnames
    if fqdn:
        out["fqdn"] = fqdn
    if value := d["os_name"]:
        out["os_name"] = value
    if value := d["os_version"]:
        out["os_version"] = value
    if (day := d["purchase_date"]) is not None:
        out["purchase_date"] = day.isoformat()
    if (day := d["warranty_end"]) is not None:
        out["warranty_end"] = day.isoformat()
    if value := d["department"]:
        out["department"] = value
    if value := d["note"]:
        out["note"] = value
    if value := d["owner"]:
        out["custodian"] = value
    if extra := d["attributes"]:
        for key, value in extra.items():
            if key not in out and not _empty(value):
                out[key] = value
    return out


class Reconciler:
    """Plans one source's observations against the register, for one run."""

    def __init__(self, registry: Registry, config: SourcesConfig, source: str, run_id: str,
                 at: datetime, places: PlaceResolver, create_places: bool,
                 clock: Clock | None = None) -> None:
        self.registry = registry
        #: Times an observation gives without an offset are in this clock's zone.
        self.clock = clock or Clock()
        self.vendors = registry.vendors
        self.config = config
        self.source = source
        self.policy: SourcePolicy = config.policy(source)
        self.run_id = run_id
        self.at = at
        self.places = places
        self.create_places = create_places and self.policy.is_authoritative("location")
        self.stamp = Provenance(source=source, at=at, run_id=run_id)
        self.names_field = self.policy.is_authoritative("name")
        self._checked: dict[tuple[str, str, Any], Any] = {}
        #: State and class hints as the registry resolved them (sheets repeat a few).
        self._hints: dict[tuple[str, str], str | None] = {}

    def _hint(self, kind: str, text: str) -> str | None:
        """A state or class hint as the registry resolves it."""
        found = self._hints.get((kind, text), MISSING)
        if found is MISSING:
            if len(self._hints) > MEMO_LIMIT:
                self._hints.clear()
            resolve = self.registry.resolve_state if kind == "state" \
                else self.registry.resolve_class
            found = self._hints[kind, text] = resolve(text)
        return found  # type: ignore[no-any-return]  # MISSING is typed Any

    def _invalid(self, obs: Observation, reason: str, field: str | None = None) -> Planned:
        return Planned(obs.locator.line, obs.locator.record, Outcome.INVALID, obs,
                       reason=reason, field=field)

    def _check(self, info: ClassInfo, key: str, value: Any) -> Any:
        """``value`` of attribute ``key`` checked and normalised for the class."""
        d = info.attributes[key]
        if isinstance(value, str) and d.type in NUMERIC:
            value = _number(value)
        if PRECHECKED.get(key) is d.type and d.list == isinstance(value, list):
            # The observation model already normalised these (MACs, IPs, dates).
            return list(value) if d.list else value
        # Sheets repeat values (manufacturer, model, department): check each once.
        memo = self._checked
        try:
            seen = (info.name, key, tuple(value) if isinstance(value, list) else value)
            checked = memo.get(seen, MISSING)
        except TypeError:  # not hashable: check it every time
            seen, checked = None, MISSING
        if checked is MISSING:
            checked = check_attributes(info, {key: value}, complete=False,
                                       zone=self.clock.zone)[key]
            if seen is not None:
                if len(memo) > MEMO_LIMIT:
                    memo.clear()
                memo[seen] = checked
        return list(checked) if isinstance(checked, list) else checked

    def _normalise(self, info: ClassInfo, values: dict[str, Any]) -> dict[str, Any]:
        """Check each observed attribute the class declares; others are left out."""
        declared = info.attributes
        return {key: self._check(info, key, value) for key, value in values.items()
                if key in declared and key not in CORE}

    def _system(self, obs: Observation, info: ClassInfo) -> dict[str, Any]:
        """What the CMDB keeps itself: when this source last saw the CI."""
        name = f"last_seen_{self.source}"
        if obs.seen_at is None or name not in info.attributes:
            return {}
        return {name: self.clock.stamp(obs.seen_at)}

    async def plan(self, obs: Observation, ident: Identification, ci: CIFacts | None,
                   location: tuple[str, str] | None) -> Planned:
        """Reconcile one observation; ``location`` is the CI's (place id, name) now."""
        refused = observation_problem(obs, self.registry)  # tags, reserved fields, sizes
        if refused is not None:
            return self._invalid(obs, refused[1], refused[0])
        if ident.ambiguous:
            return Planned(obs.locator.line, obs.locator.record, Outcome.AMBIGUOUS, obs,
                           candidates=ident.ci_ids, reason=(
                               f"{len(ident.ci_ids)} CIs match {ident.rule} {ident.value!r}"))
        state = None
        if obs.state_hint:
            state = self._hint("state", obs.state_hint)
            if state is None:
                return self._invalid(obs, f"unknown state {obs.state_hint!r}; states: "
                                     + ", ".join(self.registry.states), "state_hint")
        hinted = self._hint("class", obs.class_hint) if obs.class_hint else None
        if obs.class_hint and hinted is None and self.policy.create:
            return self._invalid(obs, f"unknown class {obs.class_hint!r}", "class_hint")
        place_id, place_error, resolved = None, None, None
        if obs.location:
            resolved = self.places.paths.get(tuple(obs.location)) \
                or await self.places.resolve(obs.location, self.create_places)
            place_id, place_error = resolved.place_id, resolved.error
            # A source that sets locations, or a sighting (an inspection scan: "seen
            # there"), must name a registered place; others just cannot move the CI.
            if place_error and (self.policy.is_authoritative("location")
                                or obs.kind == "inspection"):
                return self._invalid(obs, place_error, "location")
        try:
            if ci is None:
                return self._new(obs, hinted, state, place_id)
            return await self._matched(obs, ci, hinted, state, place_id, location)
        except CmdbError as exc:
            return self._invalid(obs, exc.message, exc.details.get("field"))
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            return self._invalid(obs, f"{field}: {first['msg']}", field)

    def _new(self, obs: Observation, hinted: str | None, state: str | None,
             place_id: str | None) -> Planned:
        planned = Planned(obs.locator.line, obs.locator.record, Outcome.NEW, obs)
        if not self.policy.create:
            planned.reason = f"not registered; {self.source} does not register new CIs"
            return planned
        if hinted is None:
            return self._invalid(obs, "cannot register a CI without a class (类别)",
                                 "class_hint")
        info = self.registry.concrete_class(hinted)
        values = self._values(obs)
        attributes = {**self._normalise(info, values), **self._system(obs, info)}
        check_required(info, attributes)
        if state is not None and self.registry.is_terminal(state) and place_id is not None:
            # A disposed CI keeps no relationships: record the asset, not where it was.
            place_id = None
            planned.reason = f"registered as {state}: its location is not recorded"
        stamp = self.stamp
        planned.create = NewCI(
            class_name=info.name, name=values.get("name") or "?", state=state,
            asset_tag=obs.asset_tag, serial_number=obs.serial_number, attributes=attributes,
            location_id=place_id)
        planned.provenance = {k: stamp for k in (*CORE, *attributes, "state", "location")
                              if k in values or k in attributes
                              or (k == "state" and state) or (k == "location" and place_id)}
        self._observed(obs, planned)
        if self.policy.software and obs.software:
            planned.software = SoftwarePlan(add=_software(obs))
        return planned

    def _values(self, obs: Observation) -> dict[str, Any]:
        """:func:`observed_values`, the manufacturer as the vendor table names it."""
        values = observed_values(obs)
        maker = values.get("manufacturer")
        if maker is not None:
            values["manufacturer"] = self.vendors.normalise(maker)
        return values

    def _observed(self, obs: Observation, planned: Planned) -> None:
        """The manufacturer's provenance keeps what the source wrote ("Dell Inc.")."""
        text = obs.manufacturer
        if text is not None and "manufacturer" in planned.provenance \
                and self.vendors.normalise(text) != text:
            planned.provenance["manufacturer"] = self.stamp.model_copy(
                update={"observed": text})

    def _may_set(self, ci: CIFacts, field: str, registered: Any) -> tuple[bool, str | None]:
        """Whether this source may overwrite ``field`` (and why not)."""
        if not self.policy.is_authoritative(field):
            return False, f"{self.source} is not authoritative for {field}"
        if _empty(registered):
            return True, None
        setter = ci.setter(field)
        if self.policy.priority_for(field) < self.config.setter_priority(setter, field):
            return False, f"set by {setter or 'hand'}, which takes precedence"
        return True, None

    def _target(self, registered: Any, observed: Any) -> Any:
        """The value to write if ``observed`` differs from ``registered`` (else MISSING)."""
        if isinstance(observed, list):
            have = registered if isinstance(registered, list) else []
            if self.policy.lists == "merge":
                missing = [v for v in observed if v not in have]
                return [*have, *missing] if missing else MISSING
            return MISSING if set(observed) == set(have) else observed
        if isinstance(registered, str) and isinstance(observed, str) \
                and registered.strip() == observed:
            return MISSING  # a sheet's cells are trimmed: stray spaces are no change
        return MISSING if observed == registered else observed

    def _compare(self, ci: CIFacts, field: str, registered: Any, observed: Any,
                 differences: list[Difference]) -> Any:
        """The value to write (``MISSING``: nothing), recording a difference if they
        differ."""
        target = self._target(registered, observed)
        if target is MISSING:
            return MISSING
        allowed, note = self._may_set(ci, field, registered)
        if self.registry.is_terminal(ci.state):
            allowed, note = False, f"the CI is {ci.state}"
        differences.append(Difference(field, registered, observed, self.source,
                                      allowed, note))
        return target if allowed else MISSING

    async def _matched(self, obs: Observation, ci: CIFacts, hinted: str | None,
                       state: str | None, place_id: str | None,
                       location: tuple[str, str] | None) -> Planned:
        info = self.registry.class_info(ci.class_name)
        differences: list[Difference] = []
        values = self._values(obs)
        if not self.names_field:
            values.pop("name", None)
        update: dict[str, Any] = {}
        changed_attrs: dict[str, Any] = {}
        registered = ci.attributes
        declared = info.attributes
        # Most observations of a recurring file say what the register says: one check
        # in C of every observed value against the registered ones, and nothing to do.
        held = {**registered, "name": ci.name, "asset_tag": ci.asset_tag,
                "serial_number": ci.serial_number}
        same = values.items() <= held.items()
        for key, value in () if same else values.items():
            if key in CORE:
                have = getattr(ci, key)
                if value != have:
                    target = self._compare(ci, key, have, value, differences)
                    if target is not MISSING:
                        update[key] = target
                continue
            if key not in declared:
                continue
            have = registered.get(key)
            # A value equal to the registered one is valid (it was checked when written):
            # only a value that differs is checked and normalised, then compared again.
            if value == have or self._target(have, value) is MISSING:
                continue
            target = self._compare(ci, key, have, self._check(info, key, value), differences)
            if target is not MISSING:
                changed_attrs[key] = target
        if obs.seen_at is not None and not self.registry.is_terminal(ci.state):
            for key, value in self._system(obs, info).items():
                if registered.get(key) != value:
                    changed_attrs[key] = value
        if hinted and not info.is_a(hinted):
            differences.append(Difference(
                "class", ci.class_name, hinted, self.source, False,
                "an import does not change a CI's class"))
        transition = None
        if state and state != ci.state:
            allowed, note = self._may_set(ci, "state", ci.state)
            if allowed and state not in self.registry.allowed_transitions(ci.state):
                allowed, note = False, f"the lifecycle does not allow {ci.state} -> {state}"
            differences.append(Difference("state", ci.state, state, self.source,
                                          allowed, note))
            transition = state if allowed else None
        move = bool(obs.location) and await self._location(ci, obs, place_id, location,
                                                           differences)
        planned = Planned(obs.locator.line, obs.locator.record, Outcome.MATCHED, obs,
                          ci_id=ci.id, facts=ci, transition=transition, place_id=place_id,
                          differences=differences)
        stamp = self.stamp
        if update or changed_attrs or move:
            fields: dict[str, Any] = dict(update)
            if changed_attrs:
                fields["attributes"] = changed_attrs
            if move:
                fields["location_id"] = place_id
            planned.changes = checked_changes(fields)
            planned.provenance = {k: stamp for k in (*update, *changed_attrs)
                                  if not k.startswith("last_seen_")}
            if move:
                planned.provenance["location"] = stamp
            self._observed(obs, planned)
        if transition:
            planned.provenance["state"] = stamp
        if self.policy.software and obs.software and not self.registry.is_terminal(ci.state):
            planned.software = SoftwarePlan(add=_software(obs))
        if differences:
            planned.outcome = Outcome.MATCHED_WITH_DIFFERENCES
        return planned

    async def _location(self, ci: CIFacts, obs: Observation, place_id: str | None,
                        location: tuple[str, str] | None,
                        differences: list[Difference]) -> bool:
        """Whether to move the CI to the observed place (recording the difference)."""
        registered_id, registered_name = location or (None, None)
        if place_id is not None and registered_id is not None and (
                place_id == registered_id
                or place_id in (self.places.known_ancestors(registered_id)
                                or await self.places.ancestors(registered_id))):
            return False
        allowed, note = self._may_set(ci, "location", registered_id)
        if place_id is None:
            allowed, note = False, "the observed place is not registered"
        if self.registry.is_terminal(ci.state):
            allowed, note = False, f"the CI is {ci.state}"
        differences.append(Difference("location", registered_name, "/".join(obs.location),
                                      self.source, allowed, note))
        return allowed


def _software(obs: Observation) -> list[tuple[str, str | None, str | None]]:
    seen: dict[tuple[str, str], tuple[str, str | None, str | None]] = {}
    for s in obs.software:
        seen.setdefault((s.name.casefold(), s.version or ""), (s.name, s.version, s.publisher))
    return list(seen.values())
