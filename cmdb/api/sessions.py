"""Signed sign-in cookies for the browser pages (asset page, GraphiQL).

The cookie holds the user's id and when the session ends, signed with
HMAC-SHA256; it is ``HttpOnly`` and ``SameSite=Lax`` (``Secure`` behind https).
The user record is read again on each request, so disabling a user ends their
sessions, and a role change applies at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

COOKIE = "cmdb_session"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Makes and checks session cookie values."""

    def __init__(self, secret: str | None, max_age: float) -> None:
        self.key = (secret or secrets.token_hex(32)).encode("utf-8")
        self.max_age = max_age

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self.key, payload.encode("ascii"), hashlib.sha256).digest())

    def dumps(self, user_id: str) -> str:
        payload = _b64(json.dumps({"u": user_id, "e": int(time.time() + self.max_age)},
                                  separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def loads(self, value: str | None) -> str | None:
        """The user id in a valid, unexpired cookie value; None otherwise."""
        if not value or len(value) > 512 or "." not in value:
            return None
        payload, signature = value.rsplit(".", 1)
        if not hmac.compare_digest(self._sign(payload), signature):
            return None
        try:
            data: Any = json.loads(_unb64(payload))
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        if not isinstance(data.get("e"), int) or data["e"] < time.time():
            return None
        return str(data["u"])

    def cookie_header(self, value: str, secure: bool) -> str:
        return (f"{COOKIE}={value}; Path=/; Max-Age={int(self.max_age)}; HttpOnly; "
                f"SameSite=Lax{'; Secure' if secure else ''}")

    @staticmethod
    def clear_header(secure: bool) -> str:
        return (f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
                f"{'; Secure' if secure else ''}")
