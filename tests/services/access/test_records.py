"""Access records read what the store has always kept and write it back unchanged, so a
CMDB made before the records existed keeps its tokens, users and sessions."""

from __future__ import annotations

from datetime import UTC, datetime

from cmdb.model.access import Role
from cmdb.model.records import Doc
from cmdb.services.access.records import (
    StoredSession,
    StoredSigningKey,
    StoredToken,
    StoredUser,
)

AT = datetime(2026, 7, 10, 2, 3, tzinfo=UTC)
LATER = datetime(2026, 7, 11, 2, 3, 4, 567_000, tzinfo=UTC)


def doc(kind: str, data: dict[str, object], **fields: object) -> Doc:
    return Doc.model_validate({"kind": kind, "id": "0190a1b2c3d4e5f6a7b8c9d0", "version": 3,
                               "created_at": AT, "updated_at": LATER, "data": data, **fields})


def test_a_token_as_kept_reads_and_writes_back_unchanged() -> None:
    kept = doc("api_token", {
        "name": "采集器 ci-bot", "role": "editor", "prefix": "cmdb_AbCd", "created_by": "cli:root",
        "expires_at": "2026-08-09T02:03:00+00:00", "last_used_at": LATER.isoformat(),
        "revoked_at": None, "revoked_by": None}, key="ab" * 32)
    stored = StoredToken.from_doc(kept)
    token = stored.token
    assert (token.name, token.role, token.prefix, token.created_at) == (
        "采集器 ci-bot", Role.EDITOR, "cmdb_AbCd", AT)
    assert token.last_used_at == LATER
    assert token.state(AT) == "active"
    assert token.state(datetime(2026, 8, 9, 2, 3, tzinfo=UTC)) == "expired"
    assert stored.to_doc() == kept
    revoked = stored.changed(revoked_at=LATER, revoked_by="admin")
    assert (revoked.version, revoked.token.state(AT)) == (4, "revoked")
    assert revoked.to_doc().data["revoked_at"] == LATER.isoformat()


def test_a_user_as_kept_reads_and_writes_back_unchanged() -> None:
    data: dict[str, object] = {
        "login": "Zhang.Wei", "role": "labeler", "password": "scrypt$16384$8$1$00$11",
        "disabled": False, "created_by": "cli:root", "last_sign_in_at": None}
    before = doc("user", data, key="zhang.wei")
    stored = StoredUser.from_doc(before)
    assert (stored.user.login, stored.user.role, stored.user.sessions_after) == (
        "Zhang.Wei", Role.LABELER, None)
    assert stored.to_doc() == before  # no sessions_after until one is set, as before
    ended = doc("user", {**data, "disabled": True, "sessions_after": LATER.isoformat()},
                key="zhang.wei")
    assert StoredUser.from_doc(ended).user.sessions_after == LATER
    assert StoredUser.from_doc(ended).to_doc() == ended


def test_a_session_and_the_signing_key_as_kept() -> None:
    started = doc("session", {"user": "chen.qi", "client": "10.0.0.7",
                              "expires_at": LATER.isoformat(), "ended_at": None,
                              "ended_by": None}, parent="u1", key="cd" * 32)
    stored = StoredSession.from_doc(started)
    assert (stored.session.user_id, stored.session.started_at) == ("u1", AT)
    assert stored.session.active(AT)
    assert not stored.session.active(LATER)
    assert stored.to_doc() == started
    ended = stored.changed(ended_at=AT, ended_by="chen.qi", end_reason="signed out")
    assert ended.to_doc().data["end_reason"] == "signed out"
    assert not ended.session.active(AT)
    key = doc("secret", {"value": "0f" * 32}, key="signing-key", version=1)
    assert StoredSigningKey.from_doc(key).value == b"\x0f" * 32
    assert StoredSigningKey.from_doc(key).to_doc().data == key.data
