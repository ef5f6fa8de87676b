"""The records the CMDB keeps: configuration items, relationships, history entries.

These are plain pydantic models that every store adapter reads and writes.
They know nothing of GraphQL or of a particular database.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import secrets
import threading
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from cmdb.model import jsontext


def now() -> datetime:
    """The current time, in UTC, to the microsecond."""
    return datetime.now(UTC)


_random = bytearray()
_random_lock = threading.Lock()


def _random_hex() -> str:
    """Six random bytes as hex, from the system's generator a few kilobytes at a time
    (one system call per id was a twentieth of an import's writes)."""
    global _random  # one buffer for the process, taken under the lock
    with _random_lock:
        if len(_random) < 6:
            _random = bytearray(secrets.token_bytes(6 * 512))
        chunk = _random[-6:]
        del _random[-6:]
    return chunk.hex()


def _forget_random() -> None:
    # A forked process must not hand out the random bytes its parent will.
    global _random  # the buffer of this (new) process
    _random = bytearray()


os.register_at_fork(after_in_child=_forget_random)


def new_id() -> str:
    """A sortable, unique, URL-safe id: 12 hex digits of milliseconds then 12 random."""
    return f"{int(time.time() * 1000):012x}{_random_hex()}"


class Channel(StrEnum):
    """Through which road a change reached the CMDB."""

    API = "api"
    CLI = "cli"
    IMPORT = "import"
    AUDIT = "audit"
    DEMO = "demo"
    RESTORE = "restore"
    SYSTEM = "system"


class Actor(BaseModel):
    """Who makes a change, and through which channel."""

    model_config = ConfigDict(frozen=True)

    name: str
    channel: Channel = Channel.API
    run_id: str | None = None


class Provenance(BaseModel):
    """Which source last set an attribute, and when; ``observed``: the text the source
    wrote, when the CMDB keeps it in another form (a manufacturer: ``Dell Inc.``, kept
    as the vendor table's ``Dell``)."""

    model_config = ConfigDict(frozen=True)

    source: str
    at: datetime
    run_id: str | None = None
    observed: str | None = None

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # ``observed`` only where there is one: the others keep the shape they always had
        out: dict[str, Any] = handler(self)
        if out.get("observed", "") is None:
            del out["observed"]
        return out


M = TypeVar("M", bound=BaseModel)


_setattr, _new = object.__setattr__, object.__new__
#: Per record class, the set of all its fields: ``construct`` gives every field, so
#: each record's "fields set" is that whole set (shared: adding a field already in it,
#: as pydantic does on assignment, changes nothing).
_ALL_FIELDS: dict[type[BaseModel], set[str]] = {}


def construct(cls: type[M], values: dict[str, Any]) -> M:
    """A record from values its store wrote (checked on the way in), with every field
    given: what pydantic's ``model_construct`` does, without its per-field bookkeeping
    (a third of the time; stores decode many records, imports build many)."""
    obj = _new(cls)  # cls.__new__ is looked up through pydantic's metaclass: slower
    _setattr(obj, "__dict__", values)
    fields = _ALL_FIELDS.get(cls)
    if fields is None:
        fields = _ALL_FIELDS[cls] = set(cls.model_fields)
    _setattr(obj, "__pydantic_fields_set__", fields if len(values) == len(fields)
             else set(values))
    _setattr(obj, "__pydantic_extra__", None)
    _setattr(obj, "__pydantic_private__", None)
    return obj


@functools.lru_cache(maxsize=4096)
def _provenance(source: str, at: str, run_id: str | None, observed: str | None) -> Provenance:
    return Provenance(source=source, at=datetime.fromisoformat(at), run_id=run_id,
                      observed=observed)


@functools.lru_cache(maxsize=4096)
def _decoded(text: str | bytes) -> tuple[tuple[str, Provenance], ...]:
    return tuple((k, _provenance(v["source"], v["at"], v.get("run_id"), v.get("observed")))
                 for k, v in jsontext.loads(text).items())


def decode_provenance(text: str | bytes) -> dict[str, Provenance]:
    """A CI's provenance as the stores keep it (JSON), decoded. The CIs one import run
    set share their text (same fields, same stamp), so each distinct text is decoded
    once; each CI gets its own dict."""
    if text == "{}" or text == b"{}":
        return {}
    return dict(_decoded(text))


def encode_provenance(provenance: dict[str, Provenance]) -> str:
    """The JSON form of :func:`decode_provenance` (times in ISO 8601, UTC as ``Z``)."""
    return jsontext.dumps_utc_z({k: _json(v) for k, v in provenance.items()})


def _json(p: Provenance) -> dict[str, Any]:
    # ``observed`` only where there is one: the others keep the shape they always had
    d = p.__dict__
    return d if d["observed"] is not None else {k: v for k, v in d.items() if k != "observed"}


class CI(BaseModel):
    """A configuration item: an asset, a piece of software, a place, a person."""

    id: str = Field(default_factory=new_id)
    class_name: str
    name: str
    state: str
    asset_tag: str | None = None
    serial_number: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, Provenance] = Field(default_factory=dict)
    version: int = 1
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)

    @property
    def manufacturer(self) -> str | None:
        value = self.attributes.get("manufacturer")
        return value if isinstance(value, str) else None

    @property
    def serial_key(self) -> str | None:
        """What must be unique: the serial number within its manufacturer."""
        return serial_key(self.manufacturer, self.serial_number)


def serial_key(manufacturer: str | None, serial: str | None) -> str | None:
    if not serial:
        return None
    return f"{(manufacturer or '').strip().casefold()}\x1f{serial.strip().casefold()}"


class Relationship(BaseModel):
    """A typed, directed link ``source -[type]-> target``; ended, never deleted."""

    id: str = Field(default_factory=new_id)
    type: str
    source_id: str
    target_id: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    version: int = 1
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    ended_at: datetime | None = None


class EntityKind(StrEnum):
    CI = "ci"
    RELATIONSHIP = "relationship"


class HistoryAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    TRANSITIONED = "transitioned"
    DISPOSED = "disposed"
    RELATED = "related"
    UNRELATED = "unrelated"


@dataclasses.dataclass
class FieldChange:
    """One field before and after a change. A plain dataclass, not a pydantic model: an
    import builds tens of thousands of them, and pydantic still validates and dumps
    them inside a :class:`HistoryEntry`."""

    field: str
    before: Any = None
    after: Any = None


class HistoryEntry(BaseModel):
    """One recorded change: who, when, through which channel, what changed."""

    id: str = Field(default_factory=new_id)
    at: datetime = Field(default_factory=now)
    actor: str
    channel: Channel
    run_id: str | None = None
    action: HistoryAction
    entity_kind: EntityKind
    entity_id: str
    ci_id: str
    peer_id: str | None = None
    reason: str | None = None
    changes: list[FieldChange] = Field(default_factory=list)
    version: int | None = None


class Doc(BaseModel):
    """A record of another kind than CIs and relationships: an import run, an outcome,
    a change, a campaign, a finding, an API token.

    ``parent`` links it to what it belongs to (an outcome to its run, a finding to its
    campaign) and ``key`` is one more value to look it up by (a state, a token hash).
    ``version`` guards updates like a CI's.
    """

    kind: str
    id: str = Field(default_factory=new_id)
    parent: str | None = None
    key: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    version: int = 1
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
