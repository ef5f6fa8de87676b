"""Secrets at rest: API token generation and hashing, password hashing.

A token is ``cmdb_`` and 43 URL-safe characters (32 random bytes); only its
SHA-256 is stored, so a leaked database does not leak usable tokens. Passwords
are hashed with scrypt (memory-hard, in the standard library) and a random salt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "cmdb_"  # noqa: S105 - the public prefix of every token, not a secret
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MAX_PASSWORD = 1024


def new_token() -> str:
    """A fresh API token, shown to its owner once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored and looked up for a token: the hex SHA-256 of it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX) and 20 <= len(token) <= 100


def _bytes(password: str) -> bytes:
    # surrogatepass: a password that is not valid Unicode (a lone surrogate from a broken
    # client) is compared as what it is, never an encoding crash
    return password.encode("utf-8", "surrogatepass")[:MAX_PASSWORD]


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` for ``password`` (~50 ms: run it off the event loop)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(_bytes(password), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


# Checked against when a login is unknown, so an unknown login costs as long as a bad password.
_DUMMY = hash_password("not a password", b"\0" * 16)


def check_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches ``stored`` (a :func:`hash_password` result), in
    constant time; ``stored=None`` burns the same time and answers False."""
    try:
        scheme, n, r, p, salt, digest = (stored or _DUMMY).split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(_bytes(password), salt=bytes.fromhex(salt),
                             n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest) and stored is not None
