"""Sign-in sessions on every store: kept hashed, shared by every process, ended by sign-out,
disable, password change and sign-out-everywhere, expiring on time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cmdb.errors import NotFoundError, ValidationError
from cmdb.model.access import Principal, Role
from cmdb.model.records import Actor, now
from cmdb.services import Cmdb
from cmdb.services.access import records
from cmdb.services.access.records import StoredSession
from cmdb.services.access.sessions import SessionService, session_digest
from cmdb.store.base import StoreTx


async def user(cmdb: Cmdb, actor: Actor, login: str, role: Role = Role.AUDITOR) -> Principal:
    await cmdb.auth.create_user(actor, login, "long password 1", role)
    return await cmdb.auth.sign_in(login, "long password 1")


def other_process(cmdb: Cmdb) -> SessionService:
    """The session service of another server process on the same store (its own caches)."""
    return SessionService(cmdb.store, type(cmdb.auth)(cmdb.store), cmdb.settings.session_hours)


async def test_a_session_is_kept_hashed_and_works_in_every_process(cmdb: Cmdb,
                                                                   actor: Actor) -> None:
    who = await user(cmdb, actor, "chen.qi")
    secret = await cmdb.sessions.start(who, "10.0.0.7")
    docs = (await cmdb.store.find_docs(StoredSession.KIND)).items
    assert [d.key for d in docs] == [session_digest(secret)]
    assert secret not in docs[0].model_dump_json()
    assert docs[0].parent == who.id
    assert await cmdb.sessions.principal(secret) == who
    assert await other_process(cmdb).principal(secret) == who
    for bad in (None, "", "x" * 43, secret[:-1], secret + "x"):
        assert await cmdb.sessions.principal(bad) is None


async def test_signing_out_ends_the_session_everywhere(cmdb: Cmdb, actor: Actor) -> None:
    who = await user(cmdb, actor, "chen.qi")
    secret = await cmdb.sessions.start(who)
    kept = await cmdb.sessions.start(who)
    elsewhere = other_process(cmdb)
    assert await elsewhere.principal(secret) == who  # now cached in that process
    assert await cmdb.sessions.end(secret, who.name)
    assert await cmdb.sessions.principal(secret) is None
    assert await other_process(cmdb).principal(secret) is None
    assert not await cmdb.sessions.end(secret, who.name)
    assert await cmdb.sessions.principal(kept) == who
    ended = await records.session_by_digest(cmdb.store, session_digest(secret))
    assert ended is not None
    assert (ended.session.ended_by, ended.session.end_reason) == ("chen.qi", "signed out")
    assert ended.session.ended_at is not None
    assert not ended.session.active()


@pytest.mark.parametrize("how", ["disable", "set_password", "change_password",
                                 "sign_out_everywhere", "sign_out_everyone"])
async def test_user_changes_end_every_session_of_that_user(cmdb: Cmdb, actor: Actor,
                                                           how: str) -> None:
    who = await user(cmdb, actor, "chen.qi")
    bystander = await user(cmdb, actor, "li.lei", Role.READER)
    one, two = await cmdb.sessions.start(who), await cmdb.sessions.start(who)
    theirs = await cmdb.sessions.start(bystander)
    if how == "disable":
        await cmdb.auth.disable_user(actor, "chen.qi")
    elif how == "set_password":
        await cmdb.auth.set_password(actor, "chen.qi", "a new password 2")
    elif how == "change_password":
        with pytest.raises(ValidationError, match="current password"):
            await cmdb.auth.change_password(who, "not it", "a new password 2")
        assert await cmdb.sessions.principal(one) == who
        await cmdb.auth.change_password(who, "long password 1", "a new password 2")
    elif how == "sign_out_everywhere":
        assert await cmdb.auth.sign_out_everywhere(actor, "chen.qi") == 1
    else:
        assert await cmdb.auth.sign_out_everywhere(actor) == 2
    for secret in (one, two):
        assert await cmdb.sessions.principal(secret) is None
        assert await other_process(cmdb).principal(secret) is None
    assert (await cmdb.sessions.principal(theirs) is None) == (how == "sign_out_everyone")
    if how != "disable":  # a new sign-in works again (with the new password, if changed)
        password = "a new password 2" if "password" in how else "long password 1"
        again = await cmdb.auth.sign_in("chen.qi", password)
        assert await cmdb.sessions.principal(await cmdb.sessions.start(again)) == again


async def test_sessions_expire_and_password_rules_hold(cmdb: Cmdb, actor: Actor) -> None:
    who = await user(cmdb, actor, "chen.qi")
    secret = await cmdb.sessions.start(who)
    kept = await records.session_by_digest(cmdb.store, session_digest(secret))
    assert kept is not None
    assert kept.session.active()

    async def expire(tx: StoreTx) -> None:
        assert kept is not None
        await records.replace(tx, kept.changed(expires_at=now() - timedelta(seconds=1)),
                              kept.version)

    await cmdb.store.write(expire)
    assert await other_process(cmdb).principal(secret) is None
    with pytest.raises(ValidationError, match="8 to 1024"):
        await cmdb.auth.set_password(actor, "chen.qi", "short")
    with pytest.raises(NotFoundError):
        await cmdb.auth.sign_out_everywhere(actor, "nobody")
    token = Principal(name="bot", role=Role.ADMIN, kind="token", id="t1")
    with pytest.raises(ValidationError, match="API tokens"):
        await cmdb.auth.change_password(token, "x", "a new password 2")


async def test_the_signing_key_is_made_once_and_shared(cmdb: Cmdb) -> None:
    key = await cmdb.sessions.signing_key()
    assert len(key) == 32
    assert await other_process(cmdb).signing_key() == key
    assert await cmdb.store.count_docs("secret") == 1
