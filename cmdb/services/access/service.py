"""Access: API tokens and users, kept in the store, and telling who a caller is.

Tokens (:class:`ApiToken`, looked up by the SHA-256 of the token) have a name, a
role, an optional expiry, when they were last used and when revoked. Users
(:class:`User`, looked up by login) sign in to the browser pages with a password;
their sessions are kept by :mod:`cmdb.services.access.sessions`. How each is stored
is :mod:`cmdb.services.access.records`' business. A user's
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
from cmdb.model.records import Actor, now
from cmdb.model.text import check_text
from cmdb.services.access import records
from cmdb.services.access.records import ApiToken, StoredToken, StoredUser, User
from cmdb.services.access.secrets import (
    check_password,
    hash_password,
    looks_like_token,
    new_token,
    token_hash,
)
from cmdb.store.base import Store, StoreTx

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


class AuthService:
    """Create, list and revoke tokens and users; turn a token or a session into a principal.

    Tokens and users are returned as their public records (:class:`ApiToken`,
    :class:`User`); the hashes they are kept with never leave this service."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._tokens: dict[str, tuple[float, StoredToken | None]] = {}
        self._users: dict[str, tuple[float, StoredUser | None]] = {}
        self._used: dict[str, float] = {}

    async def _change_token(self, token_id: str, **public: Any) -> StoredToken:
        async def work(tx: StoreTx) -> StoredToken:
            old = await records.token_by_id(tx, token_id)
            if old is None:
                raise NotFoundError(f"no API token {token_id}", id=token_id)
            new = old.changed(**public)
            await records.replace(tx, new, old.version)
            return new

        return await self.store.write(work)

    async def _change_user(self, user_id: str, password_hash: str | None = None,
                           **public: Any) -> StoredUser:
        async def work(tx: StoreTx) -> StoredUser:
            old = await records.user_by_id(tx, user_id)
            if old is None:
                raise NotFoundError(f"no user {user_id}", id=user_id)
            new = old.changed(password_hash, **public)
            await records.replace(tx, new, old.version)
            return new

        return await self.store.write(work)

    # ---- tokens ------------------------------------------------------------------
    async def create_token(self, actor: Actor, name: str, role: str | Role,
                           expires_in_days: int | None = None) -> tuple[str, ApiToken]:
        """A new token: returns the secret (shown once, never stored) and its record."""
        name, role = _name(name, "name"), _role(role)
        if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
            raise ValidationError("expiresInDays must be between 1 and 3650",
                                  field="expiresInDays")
        if any(t.token.name == name and t.token.active()
               for t in await records.all_tokens(self.store)):
            raise DuplicateError(f"an active token is already named {name!r}", field="name")
        secret, stamp = new_token(), now()
        expires = stamp + timedelta(days=expires_in_days) if expires_in_days else None
        kept = StoredToken(ApiToken(name=name, role=role, prefix=secret[:9],
                                    created_by=actor.name, expires_at=expires),
                           digest=token_hash(secret))

        async def work(tx: StoreTx) -> None:
            await records.add(tx, [kept])

        await self.store.write(work)
        audit_event("token.created", token=name, role=role.value, by=actor.name)
        return secret, kept.token

    async def list_tokens(self, include_revoked: bool = False) -> list[ApiToken]:
        """Tokens, oldest first (revoked ones only if asked)."""
        return [t.token for t in await records.all_tokens(self.store)
                if include_revoked or not t.token.revoked_at]

    async def revoke_token(self, actor: Actor, ref: str) -> ApiToken:
        """Revoke a token by its id or its name; it stops working at once here."""
        kept = await records.all_tokens(self.store)
        found = [t for t in kept if t.id == ref] or [
            t for t in kept if t.token.name == ref and not t.token.revoked_at]
        if not found:
            raise NotFoundError(f"no active token with id or name {ref!r}", ref=ref)
        if found[0].token.revoked_at:
            raise ConflictError(f"token {ref!r} is already revoked", ref=ref)
        revoked = await self._change_token(found[0].id, revoked_at=now(),
                                           revoked_by=actor.name)
        self._tokens.pop(revoked.digest, None)
        audit_event("token.revoked", token=revoked.token.name, by=actor.name)
        return revoked.token

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
            kept = await records.token_by_digest(self.store, digest)
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[digest] = (clock, kept)
        else:
            kept = cached[1]
        if kept is None or not hmac.compare_digest(kept.digest, digest):
            audit_event("auth.refused", reason="unknown token", client=client)
            raise AuthenticationError("unknown API token")
        found = kept.token
        state = found.state()
        if state != "active":
            audit_event("auth.refused", reason=f"{state} token", token=found.name,
                        client=client)
            raise AuthenticationError(f"this API token is {state}")
        if clock - self._used.get(found.id, -LAST_USED_EVERY) >= LAST_USED_EVERY:
            self._used[found.id] = clock
            await self._touch(found.id)
            audit_event("token.used", token=found.name, role=found.role.value,
                        client=client)
        return found.principal()

    async def _touch(self, token_id: str) -> None:
        """Record when a token was last used (at most once a minute per token)."""
        # Another request may record it at the same moment (either stamp will do), and a
        # store hiccup must not turn a good token away.
        try:
            await self._change_token(token_id, last_used_at=now())
        except ConflictError:
            pass
        except CmdbError as exc:
            log.warning("could not record token use: %s", exc)

    # ---- users ---------------------------------------------------------------------
    async def create_user(self, actor: Actor, login: str, password: str,
                          role: str | Role) -> User:
        login, role = _name(login, "login"), _role(role)
        _check_password_rules(password)
        if await records.user_by_login(self.store, login) is not None:
            raise DuplicateError(f"a user {login!r} already exists", field="login")
        hashed = await asyncio.to_thread(hash_password, password)
        kept = StoredUser(User(login=login, role=role, created_by=actor.name),
                          password_hash=hashed)

        async def work(tx: StoreTx) -> None:
            await records.add(tx, [kept])

        await self.store.write(work)
        audit_event("user.created", user=login, role=role.value, by=actor.name)
        return kept.user

    async def list_users(self) -> list[User]:
        """Users, oldest first."""
        return [u.user for u in await records.all_users(self.store)]

    async def _user(self, login: str) -> StoredUser:
        kept = await records.user_by_login(self.store, login)
        if kept is None:
            raise NotFoundError(f"no user {login!r}", login=login)
        return kept

    async def _end_sessions(self, kept: StoredUser, password_hash: str | None = None,
                            **public: Any) -> User:
        """Change a user so that every session started until now ends."""
        changed = await self._change_user(kept.id, password_hash, sessions_after=now(),
                                          **public)
        self._users.pop(changed.id, None)
        return changed.user

    async def disable_user(self, actor: Actor, login: str) -> User:
        """Disable a user: sign-in and existing sessions stop working."""
        user = await self._end_sessions(await self._user(login), disabled=True)
        audit_event("user.disabled", user=user.login, by=actor.name)
        return user

    async def set_password(self, actor: Actor, login: str, password: str) -> User:
        """Give a user a new password (an admin's reset); every session of theirs ends."""
        _check_password_rules(password)
        kept = await self._user(login)
        hashed = await asyncio.to_thread(hash_password, password)
        user = await self._end_sessions(kept, hashed)
        audit_event("user.password_set", user=user.login, by=actor.name)
        return user

    async def change_password(self, principal: Principal, current: str, new: str) -> User:
        """A signed-in user changes their own password, proving the current one; every
        session of theirs ends (they sign in again with the new one)."""
        if principal.kind != "user":
            raise ValidationError("only a signed-in user has a password to change; API "
                                  "tokens are replaced instead (createToken, revokeToken)",
                                  field="currentPassword")
        kept = await records.user_by_id(self.store, principal.id)
        if kept is None:
            raise NotFoundError(f"no user {principal.name!r}", login=principal.name)
        if not await asyncio.to_thread(check_password, current, kept.password_hash):
            audit_event("user.password_refused", user=kept.user.login)
            raise ValidationError("the current password is wrong", field="currentPassword")
        _check_password_rules(new, "newPassword")
        hashed = await asyncio.to_thread(hash_password, new)
        user = await self._end_sessions(kept, hashed)
        audit_event("user.password_changed", user=user.login)
        return user

    async def sign_out_everywhere(self, actor: Actor, login: str | None = None) -> int:
        """End every session of one user (``login``), or of every user (None); returns
        how many users were signed out."""
        kept = ([await self._user(login)] if login is not None
                else await records.all_users(self.store))
        for one in kept:
            await self._end_sessions(one)
        audit_event("user.signed_out_everywhere", user=login or "*", users=len(kept),
                    by=actor.name)
        return len(kept)

    async def sign_in(self, login: str, password: str, client: str | None = None) -> Principal:
        """Check a login and password; ``AuthenticationError`` (one message for every
        reason, so logins cannot be guessed) when they do not match."""
        kept = await records.user_by_login(self.store, login[:100])
        ok = await asyncio.to_thread(check_password, password,
                                     kept.password_hash if kept else None)
        if kept is None or not ok or kept.user.disabled:
            audit_event("signin.failed", user=login[:100], client=client,
                        reason="disabled" if ok and kept else "bad login or password")
            raise AuthenticationError("wrong login or password")
        await self._change_user(kept.id, last_sign_in_at=now())
        audit_event("signin.ok", user=kept.user.login, client=client)
        return kept.user.principal()

    async def session_principal(self, user_id: str,
                                started: datetime | None = None) -> Principal | None:
        """The principal of a signed-in session's user, or None if the user is disabled or
        gone, or (given when the session ``started``) their sessions were ended since."""
        clock = time.monotonic()
        cached = self._users.get(user_id)
        if cached is None or clock - cached[0] > CACHE_SECONDS:
            kept = await records.user_by_id(self.store, user_id)
            if len(self._users) > 10_000:
                self._users.clear()
            self._users[user_id] = (clock, kept)
        else:
            kept = cached[1]
        if kept is None or kept.user.disabled:
            return None
        after = kept.user.sessions_after
        if started is not None and after and started <= after:
            return None
        return kept.user.principal()

    def forget_user(self, user_id: str) -> None:
        """Drop a user from the cache (their record changed in this process)."""
        self._users.pop(user_id, None)

    async def has_credentials(self) -> bool:
        """Whether any token or user exists (start-up says how to make one if not)."""
        return await records.has_tokens_or_users(self.store)
