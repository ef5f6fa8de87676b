"""The records of access: API tokens, users, sign-in sessions and the form-signing key,
and how the store keeps them (the one module that knows their kinds and data keys).

Two shapes per record. The public one (:class:`ApiToken`, :class:`User`,
:class:`Session`) is what the access services hand out: every field of it may be
listed, printed or sent to a client. Its ``Stored*`` twin wraps it with what never
leaves the services: the hash it is looked up by or checked against (``repr=False``,
so not even a log line of the twin shows it) and the version that guards updates.
The signing key is secret as a whole and has only the stored shape.

Times are kept as ISO 8601 text in the document's data, as they always were.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, Self, TypeVar

from cmdb.model.access import Principal, Role
from cmdb.model.records import Doc, new_id, now
from cmdb.store.base import Store, StoreTx

SIGNING_KEY = "signing-key"


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def login_key(login: str) -> str:
    """What a user is looked up by: the login, trimmed and case-folded."""
    return login.strip().casefold()


# ---- public records -----------------------------------------------------------------
@dataclass(frozen=True)
class ApiToken:
    """An API token as an admin sees it. Public: every field. The token itself is never
    kept, and the SHA-256 it is found by stays in :class:`StoredToken`."""

    name: str
    role: Role
    prefix: str
    created_by: str | None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=now)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    def state(self, at: datetime | None = None) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= (at or now()):
            return "expired"
        return "active"

    def active(self, at: datetime | None = None) -> bool:
        """Neither revoked nor expired."""
        return self.state(at) == "active"

    def principal(self) -> Principal:
        return Principal(name=self.name, role=self.role, kind="token", id=self.id)


@dataclass(frozen=True)
class User:
    """Someone who signs in to the pages, as an admin sees them. Public: every field.
    The password's hash stays in :class:`StoredUser`.

    ``sessions_after`` ends every session started before it (disable, a password
    change, "sign out everywhere")."""

    login: str
    role: Role
    created_by: str | None
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=now)
    disabled: bool = False
    last_sign_in_at: datetime | None = None
    sessions_after: datetime | None = None

    def principal(self) -> Principal:
        return Principal(name=self.login, role=self.role, kind="user", id=self.id)


@dataclass(frozen=True)
class Session:
    """A browser's sign-in session. Public: every field (who, from where, when). The
    SHA-256 of its cookie's secret stays in :class:`StoredSession`."""

    user_id: str
    user: str
    client: str | None
    expires_at: datetime
    id: str = field(default_factory=new_id)
    started_at: datetime = field(default_factory=now)
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None

    def active(self, at: datetime | None = None) -> bool:
        """Neither ended nor expired."""
        return not self.ended_at and self.expires_at > (at or now())


# ---- as stored (inside the access services only) ------------------------------------
@dataclass(frozen=True)
class StoredToken:
    """A token as the store keeps it: its public record, and the SHA-256 of the token
    (never shown)."""

    KIND: ClassVar[str] = "api_token"
    token: ApiToken
    digest: str = field(repr=False)
    version: int = 1
    updated_at: datetime = field(default_factory=now)

    @property
    def id(self) -> str:
        return self.token.id

    def changed(self, **public: Any) -> Self:
        """The next version, with these public fields changed."""
        return dataclasses.replace(self, token=dataclasses.replace(self.token, **public),
                                   version=self.version + 1, updated_at=now())

    def to_doc(self) -> Doc:
        t = self.token
        return Doc(kind=self.KIND, id=t.id, key=self.digest, version=self.version,
                   created_at=t.created_at, updated_at=self.updated_at, data={
                       "name": t.name, "role": t.role.value, "prefix": t.prefix,
                       "created_by": t.created_by, "expires_at": _text(t.expires_at),
                       "last_used_at": _text(t.last_used_at),
                       "revoked_at": _text(t.revoked_at), "revoked_by": t.revoked_by})

    @classmethod
    def from_doc(cls, doc: Doc) -> Self:
        d = doc.data
        return cls(ApiToken(
            id=doc.id, name=str(d["name"]), role=Role(d["role"]), prefix=str(d.get("prefix") or ""),
            created_by=d.get("created_by"), created_at=doc.created_at,
            expires_at=_when(d.get("expires_at")), last_used_at=_when(d.get("last_used_at")),
            revoked_at=_when(d.get("revoked_at")), revoked_by=d.get("revoked_by")),
            digest=doc.key or "", version=doc.version, updated_at=doc.updated_at)


@dataclass(frozen=True)
class StoredUser:
    """A user as the store keeps it: their public record, and their password's scrypt
    hash (never shown)."""

    KIND: ClassVar[str] = "user"
    user: User
    password_hash: str | None = field(repr=False)
    version: int = 1
    updated_at: datetime = field(default_factory=now)

    @property
    def id(self) -> str:
        return self.user.id

    def changed(self, password_hash: str | None = None, **public: Any) -> Self:
        """The next version, with these public fields (and the hash, if given) changed."""
        return dataclasses.replace(self, user=dataclasses.replace(self.user, **public),
                                   password_hash=password_hash or self.password_hash,
                                   version=self.version + 1, updated_at=now())

    def to_doc(self) -> Doc:
        u = self.user
        data: dict[str, Any] = {
            "login": u.login, "role": u.role.value, "password": self.password_hash,
            "disabled": u.disabled, "created_by": u.created_by,
            "last_sign_in_at": _text(u.last_sign_in_at)}
        if u.sessions_after:  # written once set, as before
            data["sessions_after"] = _text(u.sessions_after)
        return Doc(kind=self.KIND, id=u.id, key=login_key(u.login), version=self.version,
                   created_at=u.created_at, updated_at=self.updated_at, data=data)

    @classmethod
    def from_doc(cls, doc: Doc) -> Self:
        d = doc.data
        return cls(User(
            id=doc.id, login=str(d["login"]), role=Role(d["role"]),
            created_by=d.get("created_by"), created_at=doc.created_at,
            disabled=bool(d.get("disabled")), last_sign_in_at=_when(d.get("last_sign_in_at")),
            sessions_after=_when(d.get("sessions_after"))),
            password_hash=d.get("password"), version=doc.version,
            updated_at=doc.updated_at)


@dataclass(frozen=True)
class StoredSession:
    """A session as the store keeps it (a child of its user): its public record, and
    the SHA-256 of its cookie's secret (never shown)."""

    KIND: ClassVar[str] = "session"
    session: Session
    digest: str = field(repr=False)
    version: int = 1
    updated_at: datetime = field(default_factory=now)

    @property
    def id(self) -> str:
        return self.session.id

    def changed(self, **public: Any) -> Self:
        """The next version, with these public fields changed."""
        return dataclasses.replace(self, session=dataclasses.replace(self.session, **public),
                                   version=self.version + 1, updated_at=now())

    def to_doc(self) -> Doc:
        s = self.session
        data: dict[str, Any] = {
            "user": s.user, "client": s.client, "expires_at": _text(s.expires_at),
            "ended_at": _text(s.ended_at), "ended_by": s.ended_by}
        if s.end_reason is not None:  # written once ended, as before
            data["end_reason"] = s.end_reason
        return Doc(kind=self.KIND, id=s.id, parent=s.user_id, key=self.digest,
                   version=self.version, created_at=s.started_at,
                   updated_at=self.updated_at, data=data)

    @classmethod
    def from_doc(cls, doc: Doc) -> Self:
        d = doc.data
        expires = _when(d.get("expires_at"))
        return cls(Session(
            id=doc.id, user_id=doc.parent or "", user=str(d.get("user") or ""),
            client=d.get("client"), started_at=doc.created_at,
            expires_at=expires or doc.created_at, ended_at=_when(d.get("ended_at")),
            ended_by=d.get("ended_by"), end_reason=d.get("end_reason")),
            digest=doc.key or "", version=doc.version, updated_at=doc.updated_at)


@dataclass(frozen=True)
class StoredSigningKey:
    """The CMDB's key for signing short-lived form tokens: secret as a whole."""

    KIND: ClassVar[str] = "secret"
    value: bytes = field(repr=False)
    id: str = field(default_factory=new_id)
    version: int = 1

    def to_doc(self) -> Doc:
        return Doc(kind=self.KIND, id=self.id, key=SIGNING_KEY, version=self.version,
                   data={"value": self.value.hex()})

    @classmethod
    def from_doc(cls, doc: Doc) -> Self:
        return cls(value=bytes.fromhex(doc.data["value"]), id=doc.id, version=doc.version)


# ---- reading and writing them -------------------------------------------------------
class _Kept(Protocol):
    KIND: ClassVar[str]

    @property
    def version(self) -> int: ...

    def to_doc(self) -> Doc: ...

    @classmethod
    def from_doc(cls, doc: Doc) -> Self: ...


K = TypeVar("K", bound=_Kept)


async def _one(store: Store, cls: type[K], key: str, *, oldest: bool = False) -> K | None:
    page = await store.find_docs(cls.KIND, key=key, first=1, newest_first=not oldest)
    return cls.from_doc(page.items[0]) if page.items else None


async def _every(store: Store, cls: type[K]) -> list[K]:
    """Every record of a kind, oldest first."""
    out: list[K] = []
    after: str | None = None
    while True:
        page = await store.find_docs(cls.KIND, first=500, after=after, newest_first=False)
        out += [cls.from_doc(d) for d in page.items]
        if not page.has_next or not page.items:
            return out
        after = page.items[-1].id


async def _by_id(reader: Store | StoreTx, cls: type[K], record_id: str) -> K | None:
    doc = (await reader.get_docs(cls.KIND, [record_id])).get(record_id)
    return cls.from_doc(doc) if doc is not None else None


async def token_by_digest(store: Store, digest: str) -> StoredToken | None:
    return await _one(store, StoredToken, digest)


async def all_tokens(store: Store) -> list[StoredToken]:
    """Every token, revoked and expired ones too, oldest first."""
    return await _every(store, StoredToken)


async def token_by_id(reader: Store | StoreTx, token_id: str) -> StoredToken | None:
    return await _by_id(reader, StoredToken, token_id)


async def user_by_login(store: Store, login: str) -> StoredUser | None:
    return await _one(store, StoredUser, login_key(login))


async def user_by_id(reader: Store | StoreTx, user_id: str) -> StoredUser | None:
    return await _by_id(reader, StoredUser, user_id)


async def all_users(store: Store) -> list[StoredUser]:
    """Every user, oldest first."""
    return await _every(store, StoredUser)


async def session_by_digest(store: Store, digest: str) -> StoredSession | None:
    return await _one(store, StoredSession, digest)


async def session_by_id(reader: Store | StoreTx, session_id: str) -> StoredSession | None:
    return await _by_id(reader, StoredSession, session_id)


async def signing_key(store: Store) -> StoredSigningKey | None:
    """The oldest signing key (two processes starting at once may each have added one)."""
    return await _one(store, StoredSigningKey, SIGNING_KEY, oldest=True)


async def has_tokens_or_users(store: Store) -> bool:
    return bool(await store.count_docs(StoredToken.KIND)
                or await store.count_docs(StoredUser.KIND))


async def add(tx: StoreTx, records: Sequence[_Kept]) -> None:
    """Add new records (a taken id raises ``DuplicateError``)."""
    await tx.put_docs([r.to_doc() for r in records])


async def replace(tx: StoreTx, new: _Kept, expected_version: int) -> None:
    """Store ``new`` if the stored version is still ``expected_version`` (else
    ``ConflictError``)."""
    await tx.update_doc(new.to_doc(), expected_version)
