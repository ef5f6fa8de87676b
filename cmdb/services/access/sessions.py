"""Browser sign-in sessions, kept in the store: revocable, shared by every server process.

Signing in starts a session (:class:`Session`, kept as a child of its user): the browser
holds a random secret (its cookie) and the store only the secret's SHA-256, with
when it started, when it expires (``CMDB_SESSION_HOURS`` later) and whether it was
ended. A session works while it is neither ended nor expired, its user is neither
disabled nor gone, and it started after the user's ``sessions_after`` stamp
(disable, password change, "sign out everywhere": see :mod:`cmdb.services.access.service`).
Signing out ends the session in the store, so the old cookie stops working in every
process; sessions survive a restart. Ended and expired sessions are kept (like
revoked tokens) as a record of who signed in when.

Also here: the signing key of the sign-in form's CSRF token, made once per CMDB and
kept in the store so that every server process (and a restarted one) shares it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
import time
from datetime import timedelta

from cmdb.errors import ConflictError, DuplicateError
from cmdb.model.access import Principal
from cmdb.model.records import now
from cmdb.services.access import records
from cmdb.services.access.records import Session, StoredSession, StoredSigningKey
from cmdb.services.access.service import CACHE_SECONDS, AuthService, audit_event
from cmdb.store.base import Store, StoreTx

_SECRET_FORM = re.compile(r"^[A-Za-z0-9_-]{43}$")


def session_digest(secret: str) -> str:
    """What the store keeps of a session's secret: its hex SHA-256."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def looks_like_session(secret: str | None) -> bool:
    return secret is not None and _SECRET_FORM.match(secret) is not None


class SessionService:
    """Start, check and end sign-in sessions."""

    def __init__(self, store: Store, auth: AuthService, hours: float) -> None:
        self.store = store
        self.auth = auth
        self.lifetime = timedelta(hours=hours)
        self._cache: dict[str, tuple[float, StoredSession | None]] = {}
        self._key: bytes | None = None

    async def start(self, principal: Principal, client: str | None = None) -> str:
        """A new session for a signed-in user: returns the secret for their cookie."""
        secret = secrets.token_urlsafe(32)
        stamp = now()
        kept = StoredSession(Session(user_id=principal.id, user=principal.name, client=client,
                                     started_at=stamp, expires_at=stamp + self.lifetime),
                             digest=session_digest(secret), updated_at=stamp)

        async def work(tx: StoreTx) -> None:
            await records.add(tx, [kept])

        await self.store.write(work)
        audit_event("session.started", user=principal.name, session=kept.id, client=client)
        return secret

    async def _find(self, secret: str) -> StoredSession | None:
        digest = session_digest(secret)
        clock = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and clock - cached[0] <= CACHE_SECONDS:
            return cached[1]
        kept = await records.session_by_digest(self.store, digest)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (clock, kept)
        return kept

    async def principal(self, secret: str | None) -> Principal | None:
        """Who a session cookie stands for; None when it is not a working session."""
        if not looks_like_session(secret):
            return None
        assert secret is not None
        kept = await self._find(secret)
        if kept is None or not kept.session.user_id or not hmac.compare_digest(
                kept.digest, session_digest(secret)) or not kept.session.active():
            return None
        return await self.auth.session_principal(kept.session.user_id,
                                                 kept.session.started_at)

    async def end(self, secret: str | None, by: str, reason: str = "signed out") -> bool:
        """End a session (sign-out): its cookie stops working. False if it was not on."""
        if not looks_like_session(secret):
            return False
        assert secret is not None
        digest = session_digest(secret)
        self._cache.pop(digest, None)
        found = await records.session_by_digest(self.store, digest)
        if found is None or not found.session.active():
            return False

        async def work(tx: StoreTx) -> None:
            old = await records.session_by_id(tx, found.id)
            assert old is not None  # sessions are never removed
            await records.replace(tx, old.changed(ended_at=now(), ended_by=by,
                                                  end_reason=reason), old.version)

        try:
            await self.store.write(work)
        except ConflictError:
            return False  # ended by another request at the same moment
        audit_event("session.ended", user=found.session.user, session=found.id,
                    reason=reason, by=by)
        return True

    async def signing_key(self) -> bytes:
        """This CMDB's key for signing short-lived form tokens (made on first use)."""
        if self._key is not None:
            return self._key
        kept = await records.signing_key(self.store)
        if kept is None:
            made = StoredSigningKey(value=secrets.token_bytes(32))

            async def work(tx: StoreTx) -> None:
                await records.add(tx, [made])

            with contextlib.suppress(DuplicateError):
                await self.store.write(work)
            # Two processes starting at once may each add one: all of them use the oldest.
            kept = await records.signing_key(self.store)
        assert kept is not None
        self._key = kept.value
        return self._key
