"""What callers send to the CI services: new CIs, changes, filters.

Field-level checks live here (lengths, control characters); rules that need
the schema registry or the store live in the services.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cmdb.errors import ValidationError
from cmdb.model.identifiers import tag_problem
from cmdb.model.text import SEARCH

CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def _clean(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise ValueError(f"{what} must not be empty")
    if len(value) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    bad = CONTROL.search(value)
    if bad:
        raise ValueError(f"{what} contains " + (
            "a lone UTF-16 surrogate (not valid Unicode)" if "\ud800" <= bad.group() <= "\udfff"
            else f"a control character (U+{ord(bad.group()):04X})")
            + f" at position {bad.start() + 1}")
    return value


class _Identity(BaseModel):
    """The checks name, asset tag and serial number share wherever they are given."""

    @field_validator("name", check_fields=False)
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return _clean(v, "name", 200)

    @field_validator("asset_tag", check_fields=False)
    @classmethod
    def _tag(cls, v: str | None) -> str | None:
        tag = _clean(v, "asset tag", 64)
        problem = tag_problem(tag) if tag is not None else None
        if problem:
            raise ValueError(problem)
        return tag

    @field_validator("serial_number", check_fields=False)
    @classmethod
    def _serial(cls, v: str | None) -> str | None:
        return _clean(v, "serial number", 128)


class NewCI(_Identity):
    """A CI to create."""

    model_config = ConfigDict(extra="forbid")

    class_name: str
    name: str
    state: str | None = None
    asset_tag: str | None = None
    serial_number: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    location_id: str | None = None
    owner_id: str | None = None



class CIChanges(_Identity):
    """Changes to a CI; only the fields that are set change.

    ``attributes`` are merged into the existing ones; an attribute set to
    ``None`` is removed. ``asset_tag``/``serial_number``/``location_id``/
    ``owner_id`` set to ``None`` clear the value.
    """

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    asset_tag: str | None = None
    serial_number: str | None = None
    attributes: dict[str, Any] | None = None
    location_id: str | None = None
    owner_id: str | None = None



IDENTITY = (("name", "name", 200), ("asset_tag", "asset tag", 64),
            ("serial_number", "serial number", 128))


def checked_changes(fields: dict[str, Any]) -> CIChanges:
    """Changes made of values already checked for the CI's class (an import's
    reconciliation): the identity rules (name, asset tag, serial number) run here, the
    rest of pydantic's pass, which cost more than the comparison itself, does not.
    A value the rules refuse is a :class:`~cmdb.errors.ValidationError` naming it."""
    for key, what, limit in IDENTITY:
        if key in fields:
            try:
                fields[key] = _clean(fields[key], what, limit)
            except ValueError as exc:
                raise ValidationError(f"{key}: {exc}", field=key) from None
    return CIChanges.model_construct(**fields)


class CIFilterInput(BaseModel):
    """A list filter as a caller states it (class names, not yet expanded)."""

    model_config = ConfigDict(extra="forbid")

    class_name: str | None = None
    classes: list[str] | None = None
    states: list[str] | None = None
    location_id: str | None = None
    owner_id: str | None = None
    text: str | None = Field(default=None, max_length=SEARCH)
    attributes: dict[str, Any] | None = None
    ids: list[str] | None = None
    search: str | None = Field(default=None, max_length=SEARCH)

    @field_validator("search")
    @classmethod
    def _search(cls, v: str | None) -> str | None:
        return _clean(v, "search", SEARCH) if v is not None and v.strip() else None
