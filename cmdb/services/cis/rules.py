"""The rules of a CI that need no store: input parsing, the class and attribute checks, a
change or a transition applied to a record, and the errors for taken identifiers.

:class:`CIRules` is what :class:`~cmdb.services.cis.service.CIService` (one write at a
time) and :class:`~cmdb.services.cis.bulk.BulkWriter` (many, batched) both apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from cmdb.errors import ConflictError, DuplicateError, ValidationError, VersionConflictError
from cmdb.model.attributes import check_attributes, check_required
from cmdb.model.clock import Clock
from cmdb.model.records import CI, FieldChange, Provenance, construct, now
from cmdb.model.registry import ClassInfo, Registry
from cmdb.services.cis.history import ci_changes
from cmdb.services.cis.inputs import CIChanges, NewCI
from cmdb.store.base import KeyField


def parse_input(model: type[NewCI] | type[CIChanges], data: dict[str, Any]) -> Any:
    """Validate caller input, turning pydantic's error into a coded one naming the field."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ValidationError(f"{field}: {message}" if field else message, field=field) from exc


class CIRules:
    """The schema's rules for one CI record, over the registry alone."""

    def __init__(self, registry: Registry, clock: Clock | None = None) -> None:
        self.registry = registry
        #: The zone a date-time attribute written without an offset is read in.
        self.clock = clock or Clock()

    def canonical_maker(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """``attributes`` with the manufacturer as the vendor table names it (戴尔 and
        "Dell Inc." are kept as ``Dell``; an unknown name as written, trimmed): serial
        numbers are unique per manufacturer, whoever writes them and however."""
        maker = attributes.get("manufacturer")
        if isinstance(maker, str):
            canonical = self.registry.vendors.normalise(maker)
            if canonical != maker:
                return {**attributes, "manufacturer": canonical}
        return attributes

    def check_new(self, new: NewCI, ci_id: str | None = None,
                  checked: bool = False) -> tuple[ClassInfo, CI]:
        """Check a new CI against the schema (no store needed) and build the record.
        ``checked``: the caller has already checked and normalised the attributes for the
        class (an import's reconciliation); only required ones are checked again."""
        info = self.registry.concrete_class(new.class_name)
        state = self.registry.check_state(new.state or self.registry.lifecycle.initial)
        if checked:
            check_required(info, new.attributes)
            attributes = {k: v for k, v in new.attributes.items() if v is not None}
        else:
            normalised = check_attributes(info, new.attributes, complete=True,
                                          zone=self.clock.zone)
            attributes = {k: v for k, v in normalised.items() if v is not None}
        attributes = self.canonical_maker(attributes)
        ci = CI(class_name=info.name, name=new.name, state=state, asset_tag=new.asset_tag,
                serial_number=new.serial_number, attributes=attributes)
        if ci_id is not None:
            ci.id = ci_id
        return info, ci

    def changed(
        self, before: CI, change: CIChanges, provenance: dict[str, Provenance] | None = None,
        checked: bool = False, at: datetime | None = None,
    ) -> tuple[ClassInfo, CI, list[FieldChange]]:
        """``before`` with ``change`` applied (checked against the class; no store needed):
        the new version and what changed (``before`` itself when nothing did).
        ``checked``: as for :meth:`check_new`; ``at``: when (default now)."""
        fields = change.model_fields_set
        if self.registry.is_terminal(before.state):
            raise ConflictError(f"CI {before.name} is {before.state} and cannot change",
                                id=before.id)
        info = self.registry.class_info(before.class_name)
        update: dict[str, Any] = {}
        if "name" in fields:
            if change.name is None:
                raise ValidationError("name: a CI must have a name", field="name")
            update["name"] = change.name
        for key in ("asset_tag", "serial_number"):
            if key in fields:
                update[key] = getattr(change, key)
        if change.attributes is not None:
            merged = dict(before.attributes)
            values = self.canonical_maker(
                change.attributes if checked else
                check_attributes(info, change.attributes, complete=False,
                                 zone=self.clock.zone))
            for key, value in values.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = value
            check_required(info, merged)  # the stored values were checked when written
            update["attributes"] = merged
        after = construct(CI, {**before.__dict__, **update, "version": before.version + 1,
                               "updated_at": at or now()})
        # Only the attributes the change names can differ.
        diff = ci_changes(before, after, change.attributes or ())
        if not diff:
            return info, before, diff
        changed = {c.field.removeprefix("attributes.") for c in diff}
        kept = {k: v for k, v in before.provenance.items() if k not in changed}
        after.provenance = {**kept, **(provenance or {})}
        return info, after, diff

    def transitioned(self, before: CI, to: str, provenance: Provenance | None = None,
                     at: datetime | None = None) -> CI:
        """``before`` moved to state ``to``, if the lifecycle allows it (no store needed)."""
        to = self.registry.check_transition(before.state, to)
        after = construct(CI, {**before.__dict__, "state": to, "version": before.version + 1,
                               "updated_at": at or now()})
        after.provenance = {k: v for k, v in before.provenance.items() if k != "state"}
        if provenance is not None:
            after.provenance["state"] = provenance
        return after

    def check_system_values(self, values: dict[str, Any]) -> None:
        """Refuse a value for an attribute that is not one the CMDB keeps itself."""
        unknown = sorted(set(values) - self.registry.system_attributes)
        if unknown:
            raise ValidationError(f"{', '.join(unknown)}: not attributes the CMDB keeps itself",
                                  field=unknown[0])


def new_identifiers(ci: CI, before: CI | None) -> list[KeyField]:
    """The identifiers (asset tag, serial key) ``ci`` holds that ``before`` did not."""
    out: list[KeyField] = []
    if ci.asset_tag and not (before and before.asset_tag == ci.asset_tag):
        out.append("asset_tag")
    if not ci.serial_number:
        return out
    if before is not None and before.serial_number == ci.serial_number and \
            before.attributes.get("manufacturer") == ci.attributes.get("manufacturer"):
        return out  # the same serial of the same maker: the same key
    if ci.serial_key and not (before and before.serial_key == ci.serial_key):
        out.append("serial_key")
    return out


def identifier_taken(ci: CI, key: KeyField, holder: str) -> DuplicateError:
    """The error for ``ci`` wanting an asset tag or serial CI ``holder`` already has."""
    if key == "asset_tag":
        return DuplicateError(f"asset tag {ci.asset_tag!r} is already used by CI {holder}",
                              field="assetTag", existingId=holder)
    return DuplicateError(
        f"serial number {ci.serial_number!r} of manufacturer "
        f"{ci.manufacturer or '(none)'!r} is already used by CI {holder}",
        field="serialNumber", existingId=holder)


def raise_stale(ci: CI, expected: int) -> None:
    """Refuse a change made against a version that is no longer current."""
    raise VersionConflictError(
        f"CI {ci.id} is at version {ci.version}, not {expected}: someone changed it since "
        "you read it; read it again and retry",
        id=ci.id, expectedVersion=expected, currentVersion=ci.version,
    )
