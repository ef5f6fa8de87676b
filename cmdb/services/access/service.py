"""Access: API tokens and users, kept as docs in the store, and telling who a caller is.

Tokens (doc kind ``api_token``, looked up by the SHA-256 of the token) have a
name, a role, an optional expiry, when they were last used and when revoked.
Users (doc kind ``user``, looked up by login) sign in to the browser pages with
a password; their sessions are kept by :mod:`cmdb.services.access.sessions`. A user's
``sessions_after`` stamp ends every session started before it: disabling the user,
a password change and "sign out everywhere" set it. Tokens and users are read on
each request through a short cache (:data:`CACHE_SECONDS`): a revoke, disable or
sign-out made through this process applies at once, one made by another process
(the command line, another server process) within that time.

Every sign-in, token use and refusal goes to the ``cmdb.audit`` log.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from datetime import datetime, timedelta
from typing import Any

from cmdb.errors import (
    AuthenticationError,
    CmdbError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from cmdb.model.access import Principal, Role
from cmdb.model.records import Actor, Doc, now
from cmdb.model.text import check_text
from cmdb.services.access.secrets import (
    check_password,
    hash_password,
    looks_like_token,
    new_token,
    token_hash,
)
from cmdb.store.base import Store, StoreTx

TOKEN, USER = "api_token", "user"
CACHE_SECONDS = 5.0
LAST_USED_EVERY = 60.0
NAME = re.compile(r"^[\w.@+\-: ]{1,100}$")
audit = logging.getLogger("cmdb.audit")
log = logging.getLogger("cmdb.auth")


def audit_event(event: str, **fields: Any) -> None:
    """One line in the auth audit log (``cmdb.audit``): sign-ins, token use, refusals."""
    audit.info(event, extra={"fields": {"event": event, **fields}})


def _role(value: str | Role) -> Role:
    try:
        return Role(str(value).lower())
    except ValueError:
        raise ValidationError(f"role must be one of {', '.join(r.value for r in Role)}, "
                              f"not {value!r}", field="role") from None


def _name(value: str, field: str) -> str:
    value = value.strip()
    if not NAME.match(value):
        raise ValidationError(f"{field}: 1 to 100 letters, digits, spaces or . @ + - _ :",
                              field=field)
    return value


def _check_password_rules(password: str, field: str = "password") -> None:
    if not 8 <= len(password) <= 1024:
        raise ValidationError(f"{field}: 8 to 1024 characters", field=field)
    check_text(password, field, 1024)  # a lone surrogate cannot be hashed


def token_active(doc: Doc, at: datetime | None = None) -> bool:
    if doc.data.get("revoked_at"):
        return False
    expires = doc.data.get("expires_at")
    return not (expires and datetime.fromisoformat(expires) <= (at or now()))


class AuthService:
    """Create, list and revoke tokens and users; turn a token or a session into a principal."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._tokens: dict[str, tuple[float, Doc | None]] = {}
        self._users: dict[str, tuple[float, Doc | None]] = {}
        self._used: dict[str, float] = {}

    async def _all(self, kind: str) -> list[Doc]:
        out: list[Doc] = []
        after: str | None = None
        while True:
            page = await self.store.find_docs(kind, first=500, after=after, newest_first=False)
            out += page.items
            if not page.has_next or not page.items:
                return out
            after = page.items[-1].id

    async def _change(self, kind: str, doc_id: str, update: dict[str, Any]) -> Doc:
        async def work(tx: StoreTx) -> Doc:
            doc = (await tx.get_docs(kind, [doc_id])).get(doc_id)
            if doc is None:
                raise NotFoundError(f"no {kind} {doc_id}", id=doc_id)
            new = doc.model_copy(update={"data": {**doc.data, **update},
                                         "version": doc.version + 1, "updated_at": now()})
            await tx.update_doc(new, doc.version)
            return new

        return await self.store.write(work)

    # ---- tokens ------------------------------------------------------------------
    async def create_token(self, actor: Actor, name: str, role: str | Role,
                           expires_in_days: int | None = None) -> tuple[str, Doc]:
        """A new token: returns the secret (shown once, never stored) and its record."""
        name, role = _name(name, "name"), _role(role)
        if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
            raise ValidationError("expiresInDays must be between 1 and 3650",
                                  field="expiresInDays")
        if any(d.data["name"] == name and token_active(d) for d in await self._all(TOKEN)):
            raise DuplicateError(f"an active token is already named {name!r}", field="name")
        secret, stamp = new_token(), now()
        expires = stamp + timedelta(days=expires_in_days) if expires_in_days else None
        doc = Doc(kind=TOKEN, key=token_hash(secret), data={
            "name": name, "role": role.value, "prefix": secret[:9],
            "created_by": actor.name, "expires_at": expires.isoformat() if expires else None,
            "last_used_at": None, "revoked_at": None, "revoked_by": None,
        })

        async def work(tx: StoreTx) -> None:
            await tx.put_docs([doc])

        await self.store.write(work)
        audit_event("token.created", token=name, role=role.value, by=actor.name)
        return secret, doc

    async def list_tokens(self, include_revoked: bool = False) -> list[Doc]:
        docs = await self._all(TOKEN)
        return [d for d in docs if include_revoked or not d.data.get("revoked_at")]

    async def revoke_token(self, actor: Actor, ref: str) -> Doc:
        """Revoke a token by its id or its name; it stops working at once here."""
        docs = await self._all(TOKEN)
        found = [d for d in docs if d.id == ref] or [
            d for d in docs if d.data["name"] == ref and not d.data.get("revoked_at")]
        if not found:
            raise NotFoundError(f"no active token with id or name {ref!r}", ref=ref)
        if found[0].data.get("revoked_at"):
            raise ConflictError(f"token {ref!r} is already revoked", ref=ref)
        doc = await self._change(TOKEN, found[0].id, {"revoked_at": now().isoformat(),
                                                      "revoked_by": actor.name})
        self._tokens.pop(doc.key or "", None)
        audit_event("token.revoked", token=doc.data["name"], by=actor.name)
        return doc

    async def authenticate_token(self, token: str, client: str | None = None) -> Principal:
        """The principal a bearer token stands for; ``AuthenticationError`` when it is
        unknown, expired or revoked."""
        if not looks_like_token(token):
            audit_event("auth.refused", reason="malformed token", client=client)
            raise AuthenticationError("that is not a CMDB API token")
        digest = token_hash(token)
        clock = time.monotonic()
        cached = self._tokens.get(digest)
        if cached is None or clock - cached[0] > CACHE_SECONDS:
            page = await self.store.find_docs(TOKEN, key=digest, first=1)
            doc = page.items[0] if page.items else None
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[digest] = (clock, doc)
        else:
            doc = cached[1]
        if doc is None or not hmac.compare_digest(doc.key or "", digest):
            audit_event("auth.refused", reason="unknown token", client=client)
            raise AuthenticationError("unknown API token")
        if not token_active(doc):
            why = "revoked" if doc.data.get("revoked_at") else "expired"
            audit_event("auth.refused", reason=f"{why} token", token=doc.data["name"],
                        client=client)
            raise AuthenticationError(f"this API token is {why}")
        if clock - self._used.get(doc.id, -LAST_USED_EVERY) >= LAST_USED_EVERY:
            self._used[doc.id] = clock
            await self._touch(doc)
            audit_event("token.used", token=doc.data["name"], role=doc.data["role"],
                        client=client)
        return Principal(name=doc.data["name"], role=Role(doc.data["role"]), kind="token",
                         id=doc.id)

    async def _touch(self, doc: Doc) -> None:
        """Record when a token was last used (at most once a minute per token)."""
        # Another request may record it at the same moment (either stamp will do), and a
        # store hiccup must not turn a good token away.
        try:
            await self._change(TOKEN, doc.id, {"last_used_at": now().isoformat()})
        except ConflictError:
            pass
        except CmdbError as exc:
            log.warning("could not record token use: %s", exc)

    # ---- users ---------------------------------------------------------------------
    async def create_user(self, actor: Actor, login: str, password: str,
                          role: str | Role) -> Doc:
        login, role = _name(login, "login"), _role(role)
        _check_password_rules(password)
        if await self._find_user(login) is not None:
            raise DuplicateError(f"a user {login!r} already exists", field="login")
        hashed = await asyncio.to_thread(hash_password, password)
        doc = Doc(kind=USER, key=login.casefold(), data={
            "login": login, "role": role.value, "password": hashed, "disabled": False,
            "created_by": actor.name, "last_sign_in_at": None,
        })

        async def work(tx: StoreTx) -> None:
            await tx.put_docs([doc])

        await self.store.write(work)
        audit_event("user.created", user=login, role=role.value, by=actor.name)
        return doc

    async def _find_user(self, login: str) -> Doc | None:
        page = await self.store.find_docs(USER, key=login.strip().casefold(), first=1)
        return page.items[0] if page.items else None

    async def list_users(self) -> list[Doc]:
        return await self._all(USER)

    async def _user(self, login: str) -> Doc:
        doc = await self._find_user(login)
        if doc is None:
            raise NotFoundError(f"no user {login!r}", login=login)
        return doc

    async def _end_sessions(self, doc: Doc, update: dict[str, Any] | None = None) -> Doc:
        """Change a user so that every session started until now ends."""
        doc = await self._change(USER, doc.id, {**(update or {}),
                                                "sessions_after": now().isoformat()})
        self._users.pop(doc.id, None)
        return doc

    async def disable_user(self, actor: Actor, login: str) -> Doc:
        """Disable a user: sign-in and existing sessions stop working."""
        doc = await self._end_sessions(await self._user(login), {"disabled": True})
        audit_event("user.disabled", user=doc.data["login"], by=actor.name)
        return doc

    async def set_password(self, actor: Actor, login: str, password: str) -> Doc:
        """Give a user a new password (an admin's reset); every session of theirs ends."""
        _check_password_rules(password)
        doc = await self._user(login)
        hashed = await asyncio.to_thread(hash_password, password)
        doc = await self._end_sessions(doc, {"password": hashed})
        audit_event("user.password_set", user=doc.data["login"], by=actor.name)
        return doc

    async def change_password(self, principal: Principal, current: str, new: str) -> Doc:
        """A signed-in user changes their own password, proving the current one; every
        session of theirs ends (they sign in again with the new one)."""
        if principal.kind != "user":
            raise ValidationError("only a signed-in user has a password to change; API "
                                  "tokens are replaced instead (createToken, revokeToken)",
                                  field="currentPassword")
        doc = (await self.store.get_docs(USER, [principal.id])).get(principal.id)
        if doc is None:
            raise NotFoundError(f"no user {principal.name!r}", login=principal.name)
        if not await asyncio.to_thread(check_password, current, doc.data["password"]):
            audit_event("user.password_refused", user=doc.data["login"])
            raise ValidationError("the current password is wrong", field="currentPassword")
        _check_password_rules(new, "newPassword")
        hashed = await asyncio.to_thread(hash_password, new)
        doc = await self._end_sessions(doc, {"password": hashed})
        audit_event("user.password_changed", user=doc.data["login"])
        return doc

    async def sign_out_everywhere(self, actor: Actor, login: str | None = None) -> int:
        """End every session of one user (``login``), or of every user (None); returns
        how many users were signed out."""
        docs = [await self._user(login)] if login is not None else await self._all(USER)
        for doc in docs:
            await self._end_sessions(doc)
        audit_event("user.signed_out_everywhere", user=login or "*", users=len(docs),
                    by=actor.name)
        return len(docs)

    async def sign_in(self, login: str, password: str, client: str | None = None) -> Principal:
        """Check a login and password; ``AuthenticationError`` (one message for every
        reason, so logins cannot be guessed) when they do not match."""
        doc = await self._find_user(login[:100])
        ok = await asyncio.to_thread(check_password, password,
                                     doc.data["password"] if doc else None)
        if doc is None or not ok or doc.data.get("disabled"):
            audit_event("signin.failed", user=login[:100], client=client,
                        reason="disabled" if ok and doc else "bad login or password")
            raise AuthenticationError("wrong login or password")
        await self._change(USER, doc.id, {"last_sign_in_at": now().isoformat()})
        audit_event("signin.ok", user=doc.data["login"], client=client)
        return Principal(name=doc.data["login"], role=Role(doc.data["role"]), kind="user",
                         id=doc.id)

    async def session_principal(self, user_id: str,
                                started: datetime | None = None) -> Principal | None:
        """The principal of a signed-in session's user, or None if the user is disabled or
        gone, or (given when the session ``started``) their sessions were ended since."""
        clock = time.monotonic()
        cached = self._users.get(user_id)
        if cached is None or clock - cached[0] > CACHE_SECONDS:
            doc = (await self.store.get_docs(USER, [user_id])).get(user_id)
            if len(self._users) > 10_000:
                self._users.clear()
            self._users[user_id] = (clock, doc)
        else:
            doc = cached[1]
        if doc is None or doc.data.get("disabled"):
            return None
        after = doc.data.get("sessions_after")
        if started is not None and after and started <= datetime.fromisoformat(after):
            return None
        return Principal(name=doc.data["login"], role=Role(doc.data["role"]), kind="user",
                         id=doc.id)

    def forget_user(self, user_id: str) -> None:
        """Drop a user from the cache (their record changed in this process)."""
        self._users.pop(user_id, None)

    async def has_credentials(self) -> bool:
        """Whether any token or user exists (start-up says how to make one if not)."""
        return bool(await self.store.count_docs(TOKEN) or await self.store.count_docs(USER))
