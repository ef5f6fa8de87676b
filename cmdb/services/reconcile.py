"""Reconciliation: compare an identified observation with the register and plan the change.

Rules (``schema/sources.yaml`` says which source may do what):

- a null or missing observed value never overwrites a registered one;
- a source sets a field only when it is authoritative for it and its priority is
  at least that of whoever set the current value (no provenance: set by hand);
  the other differences are still reported, with ``applied: false``;
- class and state hints resolve through the names and aliases in ``schema/``
  (服务器, 笔记本电脑, 在用, 库存 ...); a state change must be a lifecycle move;
- a location path resolves to the place hierarchy (:mod:`cmdb.services.places`);
- discovery sources never create CIs unless configured: NEW is reported only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from cmdb.errors import CmdbError
from cmdb.importers import Observation
from cmdb.model.attributes import check_attributes
from cmdb.model.definitions import AttributeType
from cmdb.model.records import CI, Provenance
from cmdb.model.registry import ClassInfo, Registry
from cmdb.services.admission import observation_problem
from cmdb.services.identify import Identification
from cmdb.services.inputs import CIChanges, NewCI
from cmdb.services.outcomes import Difference, Outcome, Planned, SoftwarePlan
from cmdb.services.places import PlaceResolver
from cmdb.services.sources import SourcePolicy, SourcesConfig

CORE = ("name", "asset_tag", "serial_number")
OBSERVED_ATTRIBUTES = ("manufacturer", "model", "mac_addresses", "ip_addresses", "hostnames",
                       "fqdn", "os_name", "os_version", "purchase_date", "warranty_end",
                       "department", "note")
DISPOSED = "disposed"
MEMO_LIMIT = 50_000
MISSING: Any = object()
#: Observation fields its model has already normalised, with the attribute type they
#: satisfy (a class declaring another type gets them checked as usual).
PRECHECKED = {"mac_addresses": AttributeType.MAC, "ip_addresses": AttributeType.IP,
              "purchase_date": AttributeType.DATE, "warranty_end": AttributeType.DATE}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def observed_values(obs: Observation) -> dict[str, Any]:
    """The fields an observation states, as the register names them (nulls left out)."""
    out: dict[str, Any] = {k: getattr(obs, k) for k in CORE}
    if not out["name"]:
        out["name"] = obs.fqdn or (obs.hostnames[0] if obs.hostnames else None) \
            or obs.asset_tag or obs.serial_number
    for key in OBSERVED_ATTRIBUTES:
        value = getattr(obs, key)
        if key == "ip_addresses":
            value = [str(ip) for ip in value]
        elif key in ("purchase_date", "warranty_end") and value is not None:
            value = value.isoformat()
        out[key] = value
    out["custodian"] = obs.owner
    for key, value in obs.attributes.items():
        out.setdefault(key, value)
    return {k: v for k, v in out.items() if not _empty(v)}


class Reconciler:
    """Plans one source's observations against the register, for one run."""

    def __init__(self, registry: Registry, config: SourcesConfig, source: str, run_id: str,
                 at: datetime, places: PlaceResolver, create_places: bool) -> None:
        self.registry = registry
        self.config = config
        self.source = source
        self.policy: SourcePolicy = config.policy(source)
        self.run_id = run_id
        self.at = at
        self.places = places
        self.create_places = create_places and self.policy.is_authoritative("location")
        self._checked: dict[tuple[str, str, Any], Any] = {}

    def _stamp(self) -> Provenance:
        return Provenance(source=self.source, at=self.at, run_id=self.run_id)

    def _invalid(self, obs: Observation, reason: str, field: str | None = None) -> Planned:
        return Planned(obs.locator.line, obs.locator.record, Outcome.INVALID, obs,
                       reason=reason, field=field)

    def _normalise(self, info: ClassInfo, values: dict[str, Any]) -> dict[str, Any]:
        """Check each observed attribute the class declares; others are left out."""
        out: dict[str, Any] = {}
        memo = self._checked
        for key, value in values.items():
            d = info.attributes.get(key)
            if d is None or key in CORE:
                continue
            if PRECHECKED.get(key) is d.type and d.list == isinstance(value, list):
                # The observation model already normalised these (MACs, IPs, dates).
                out[key] = list(value) if d.list else value
                continue
            # Sheets repeat values (manufacturer, model, department): check each once.
            try:
                seen = (info.name, key, tuple(value) if isinstance(value, list) else value)
                checked = memo.get(seen, MISSING)
            except TypeError:  # not hashable: check it every time
                seen, checked = None, MISSING
            if checked is MISSING:
                checked = check_attributes(info, {key: value}, complete=False)[key]
                if seen is not None:
                    if len(memo) > MEMO_LIMIT:
                        memo.clear()
                    memo[seen] = checked
            out[key] = list(checked) if isinstance(checked, list) else checked
        return out

    def _system(self, obs: Observation, info: ClassInfo) -> dict[str, Any]:
        """What the CMDB keeps itself: when this source last saw the CI."""
        name = f"last_seen_{self.source}"
        if obs.seen_at is None or name not in info.attributes:
            return {}
        return {name: _utc(obs.seen_at).isoformat()}

    async def plan(self, obs: Observation, ident: Identification, ci: CI | None,
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
            state = self.registry.resolve_state(obs.state_hint)
            if state is None:
                return self._invalid(obs, f"unknown state {obs.state_hint!r}; states: "
                                     + ", ".join(self.registry.states), "state_hint")
        hinted = self.registry.resolve_class(obs.class_hint) if obs.class_hint else None
        if obs.class_hint and hinted is None and self.policy.create:
            return self._invalid(obs, f"unknown class {obs.class_hint!r}", "class_hint")
        place_id, place_error, resolved = None, None, None
        if obs.location:
            resolved = await self.places.resolve(obs.location, self.create_places)
            place_id, place_error = resolved.place_id, resolved.error
            if place_error and self.policy.is_authoritative("location"):
                return self._invalid(obs, place_error, "location")
        try:
            if ci is None:
                return self._new(obs, hinted, state, place_id)
            return await self._matched(obs, ci, hinted, state, place_id, location, ident)
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
        values = observed_values(obs)
        attributes = {**self._normalise(info, values), **self._system(obs, info)}
        check_attributes(info, attributes, complete=True)  # required attributes present
        if state == DISPOSED and place_id is not None:
            # A disposed CI keeps no relationships: record the asset, not where it was.
            place_id = None
            planned.reason = "registered as disposed: its location is not recorded"
        stamp = self._stamp()
        planned.create = NewCI(
            class_name=info.name, name=values.get("name") or "?", state=state,
            asset_tag=obs.asset_tag, serial_number=obs.serial_number, attributes=attributes,
            location_id=place_id)
        planned.provenance = {k: stamp for k in (*CORE, *attributes, "state", "location")
                              if k in values or k in attributes
                              or (k == "state" and state) or (k == "location" and place_id)}
        if self.policy.software and obs.software:
            planned.software = SoftwarePlan(add=_software(obs))
        return planned

    def _may_set(self, ci: CI, field: str, registered: Any) -> tuple[bool, str | None]:
        """Whether this source may overwrite ``field`` (and why not)."""
        if not self.policy.is_authoritative(field):
            return False, f"{self.source} is not authoritative for {field}"
        if _empty(registered):
            return True, None
        setter = ci.provenance[field].source if field in ci.provenance else None
        if self.policy.priority_for(field) < self.config.setter_priority(setter, field):
            return False, f"set by {setter or 'hand'}, which takes precedence"
        return True, None

    def _compare(self, ci: CI, field: str, registered: Any, observed: Any) -> Any:
        """The value to write (``None``: nothing), recording a difference if they differ."""
        if isinstance(observed, list):
            have = registered if isinstance(registered, list) else []
            if self.policy.lists == "merge":
                missing = [v for v in observed if v not in have]
                if not missing:
                    return None
                target = [*have, *missing]
            else:
                if set(observed) == set(have):
                    return None
                target = observed
        elif observed == registered:
            return None
        else:
            target = observed
        allowed, note = self._may_set(ci, field, registered)
        if ci.state == DISPOSED:
            allowed, note = False, "the CI is disposed"
        self._differences.append(Difference(field, registered, observed, self.source,
                                            allowed, note))
        return target if allowed else None

    async def _matched(self, obs: Observation, ci: CI, hinted: str | None, state: str | None,
                       place_id: str | None, location: tuple[str, str] | None,
                       ident: Identification) -> Planned:
        info = self.registry.class_info(ci.class_name)
        self._differences: list[Difference] = []
        values = observed_values(obs)
        if not self.policy.is_authoritative("name"):
            values.pop("name", None)
        attributes = self._normalise(info, values)
        update: dict[str, Any] = {}
        for key in CORE:
            if key in values:
                target = self._compare(ci, key, getattr(ci, key), values[key])
                if target is not None:
                    update[key] = target
        changed_attrs: dict[str, Any] = {}
        for key, value in attributes.items():
            target = self._compare(ci, key, ci.attributes.get(key), value)
            if target is not None:
                changed_attrs[key] = target
        for key, value in self._system(obs, info).items():
            if ci.attributes.get(key) != value and ci.state != DISPOSED:
                changed_attrs[key] = value
        if hinted and not info.is_a(hinted):
            self._differences.append(Difference(
                "class", ci.class_name, hinted, self.source, False,
                "an import does not change a CI's class"))
        transition = None
        if state and state != ci.state:
            allowed, note = self._may_set(ci, "state", ci.state)
            if allowed and state not in self.registry.allowed_transitions(ci.state):
                allowed, note = False, f"the lifecycle does not allow {ci.state} -> {state}"
            self._differences.append(Difference("state", ci.state, state, self.source,
                                                allowed, note))
            transition = state if allowed else None
        move = await self._location(ci, obs, place_id, location)
        stamp = self._stamp()
        planned = Planned(obs.locator.line, obs.locator.record, Outcome.MATCHED, obs,
                          ci_id=ci.id, before=ci, transition=transition, place_id=place_id,
                          differences=self._differences)
        fields: dict[str, Any] = dict(update)
        if changed_attrs:
            fields["attributes"] = changed_attrs
        if move:
            fields["location_id"] = place_id
        if fields:
            planned.changes = CIChanges(**fields)
            planned.provenance = {k: stamp for k in (*update, *changed_attrs)
                                  if not k.startswith("last_seen_")}
            if move:
                planned.provenance["location"] = stamp
        if transition:
            planned.provenance["state"] = stamp
        if self.policy.software and obs.software and ci.state != DISPOSED:
            planned.software = SoftwarePlan(add=_software(obs))
        if self._differences:
            planned.outcome = Outcome.MATCHED_WITH_DIFFERENCES
        return planned

    async def _location(self, ci: CI, obs: Observation, place_id: str | None,
                        location: tuple[str, str] | None) -> bool:
        """Whether to move the CI to the observed place (recording the difference)."""
        if not obs.location:
            return False
        registered_id, registered_name = location or (None, None)
        if place_id is not None and registered_id is not None and (
                place_id == registered_id
                or place_id in await self.places.ancestors(registered_id)):
            return False
        allowed, note = self._may_set(ci, "location", registered_id)
        if place_id is None:
            allowed, note = False, "the observed place is not registered"
        if ci.state == DISPOSED:
            allowed, note = False, "the CI is disposed"
        self._differences.append(Difference("location", registered_name,
                                            "/".join(obs.location), self.source, allowed, note))
        return allowed


def _software(obs: Observation) -> list[tuple[str, str | None, str | None]]:
    seen: dict[tuple[str, str], tuple[str, str | None, str | None]] = {}
    for s in obs.software:
        seen.setdefault((s.name.casefold(), s.version or ""), (s.name, s.version, s.publisher))
    return list(seen.values())
