"""Browser sign-in sessions, kept in the store: revocable, shared by every server process.

Signing in starts a session (doc kind ``session``, child of its user): the browser
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
from datetime import datetime, timedelta

from cmdb.errors import ConflictError, DuplicateError
from cmdb.model.access import Principal
from cmdb.model.records import Doc, now
from cmdb.services.access.service import CACHE_SECONDS, AuthService, audit_event
from cmdb.store.base import Store, StoreTx

SESSION, SECRET = "session", "secret"
SIGNING_KEY = "signing-key"
_SECRET_FORM = re.compile(r"^[A-Za-z0-9_-]{43}$")


def session_digest(secret: str) -> str:
    """What the store keeps of a session's secret: its hex SHA-256."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def looks_like_session(secret: str | None) -> bool:
    return secret is not None and _SECRET_FORM.match(secret) is not None


def session_active(doc: Doc, at: datetime | None = None) -> bool:
    if doc.data.get("ended_at"):
        return False
    return datetime.fromisoformat(doc.data["expires_at"]) > (at or now())


class SessionService:
    """Start, check and end sign-in sessions."""

    def __init__(self, store: Store, auth: AuthService, hours: float) -> None:
        self.store = store
        self.auth = auth
        self.lifetime = timedelta(hours=hours)
        self._cache: dict[str, tuple[float, Doc | None]] = {}
        self._key: bytes | None = None

    async def start(self, principal: Principal, client: str | None = None) -> str:
        """A new session for a signed-in user: returns the secret for their cookie."""
        secret = secrets.token_urlsafe(32)
        stamp = now()
        doc = Doc(kind=SESSION, parent=principal.id, key=session_digest(secret),
                  created_at=stamp, updated_at=stamp, data={
                      "user": principal.name, "client": client,
                      "expires_at": (stamp + self.lifetime).isoformat(),
                      "ended_at": None, "ended_by": None})

        async def work(tx: StoreTx) -> None:
            await tx.put_docs([doc])

        await self.store.write(work)
        audit_event("session.started", user=principal.name, session=doc.id, client=client)
        return secret

    async def _find(self, secret: str) -> Doc | None:
        digest = session_digest(secret)
        clock = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and clock - cached[0] <= CACHE_SECONDS:
            return cached[1]
        page = await self.store.find_docs(SESSION, key=digest, first=1)
        doc = page.items[0] if page.items else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (clock, doc)
        return doc

    async def principal(self, secret: str | None) -> Principal | None:
        """Who a session cookie stands for; None when it is not a working session."""
        if not looks_like_session(secret):
            return None
        assert secret is not None
        doc = await self._find(secret)
        if doc is None or doc.parent is None or not hmac.compare_digest(
                doc.key or "", session_digest(secret)) or not session_active(doc):
            return None
        return await self.auth.session_principal(doc.parent, doc.created_at)

    async def end(self, secret: str | None, by: str, reason: str = "signed out") -> bool:
        """End a session (sign-out): its cookie stops working. False if it was not on."""
        if not looks_like_session(secret):
            return False
        assert secret is not None
        digest = session_digest(secret)
        self._cache.pop(digest, None)
        page = await self.store.find_docs(SESSION, key=digest, first=1)
        if not page.items or not session_active(page.items[0]):
            return False
        found = page.items[0]

        async def work(tx: StoreTx) -> None:
            doc = (await tx.get_docs(SESSION, [found.id]))[found.id]
            await tx.update_doc(doc.model_copy(update={
                "data": {**doc.data, "ended_at": now().isoformat(), "ended_by": by,
                         "end_reason": reason},
                "version": doc.version + 1, "updated_at": now()}), doc.version)

        try:
            await self.store.write(work)
        except ConflictError:
            return False  # ended by another request at the same moment
        audit_event("session.ended", user=found.data.get("user"), session=found.id,
                    reason=reason, by=by)
        return True

    async def signing_key(self) -> bytes:
        """This CMDB's key for signing short-lived form tokens (made on first use)."""
        if self._key is not None:
            return self._key
        page = await self.store.find_docs(SECRET, key=SIGNING_KEY, first=1, newest_first=False)
        if not page.items:
            doc = Doc(kind=SECRET, key=SIGNING_KEY, data={"value": secrets.token_hex(32)})

            async def work(tx: StoreTx) -> None:
                await tx.put_docs([doc])

            with contextlib.suppress(DuplicateError):
                await self.store.write(work)
            # Two processes starting at once may each add one: all of them use the oldest.
            page = await self.store.find_docs(SECRET, key=SIGNING_KEY, first=1,
                                              newest_first=False)
        self._key = bytes.fromhex(page.items[0].data["value"])
        return self._key
