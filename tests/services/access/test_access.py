"""Tokens and users on every store: hashed at rest, revocable, expiring; passwords checked."""

from __future__ import annotations

import dataclasses

import pytest

from cmdb.errors import AuthenticationError, DuplicateError, NotFoundError, ValidationError
from cmdb.model.access import Role, allows, roles_allowed
from cmdb.model.records import Actor
from cmdb.services import Cmdb
from cmdb.services.access import records
from cmdb.services.access.secrets import check_password, hash_password, token_hash


def test_roles_are_not_a_ladder() -> None:
    assert roles_allowed(Role.READER) == set(Role)
    assert roles_allowed(Role.EDITOR) == {Role.EDITOR, Role.ADMIN}
    assert roles_allowed(Role.LABELER) == {Role.LABELER, Role.ADMIN}
    assert not allows(Role.EDITOR, Role.AUDITOR)
    assert allows(Role.ADMIN, Role.AUDITOR)


def test_password_hashes_are_salted_and_checked() -> None:
    one, two = hash_password("秘密 password"), hash_password("秘密 password")
    assert one != two
    assert one.startswith("scrypt$")
    assert check_password("秘密 password", one)
    assert not check_password("秘密 passwore", one)
    assert not check_password("anything", None)
    assert not check_password("anything", "md5$x")


async def test_token_round_trip(cmdb: Cmdb, actor: Actor) -> None:
    secret, token = await cmdb.auth.create_token(actor, "ci-bot", "editor")
    assert (token.name, token.role, token.prefix) == ("ci-bot", Role.EDITOR, secret[:9])
    who = await cmdb.auth.authenticate_token(secret)
    assert (who.name, who.role, who.kind) == ("ci-bot", Role.EDITOR, "token")
    assert (await cmdb.auth.list_tokens())[0].last_used_at
    with pytest.raises(DuplicateError):
        await cmdb.auth.create_token(actor, "ci-bot", "reader")
    with pytest.raises(ValidationError):
        await cmdb.auth.create_token(actor, "x", "superuser")
    await cmdb.auth.revoke_token(actor, "ci-bot")
    with pytest.raises(AuthenticationError, match="revoked"):
        await cmdb.auth.authenticate_token(secret)
    with pytest.raises(NotFoundError):
        await cmdb.auth.revoke_token(actor, "ci-bot")
    with pytest.raises(AuthenticationError):
        await cmdb.auth.authenticate_token(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    again, _ = await cmdb.auth.create_token(actor, "ci-bot", "reader", expires_in_days=1)
    assert (await cmdb.auth.authenticate_token(again)).role is Role.READER
    assert [t.name for t in await cmdb.auth.list_tokens()] == ["ci-bot"]
    assert len(await cmdb.auth.list_tokens(include_revoked=True)) == 2


async def test_users_sign_in_until_disabled(cmdb: Cmdb, actor: Actor) -> None:
    assert not await cmdb.auth.has_credentials()
    user = await cmdb.auth.create_user(actor, "Zhang.Wei", "long password", Role.LABELER)
    assert await cmdb.auth.has_credentials()
    assert "long password" not in repr(user)
    who = await cmdb.auth.sign_in("zhang.wei", "long password")
    assert (who.name, who.role, who.kind) == ("Zhang.Wei", Role.LABELER, "user")
    assert await cmdb.auth.session_principal(user.id) == who
    with pytest.raises(AuthenticationError):
        await cmdb.auth.sign_in("zhang.wei", "wrong password")
    with pytest.raises(DuplicateError):
        await cmdb.auth.create_user(actor, "ZHANG.WEI", "another password", "reader")
    with pytest.raises(ValidationError):
        await cmdb.auth.create_user(actor, "short", "1234", "reader")
    await cmdb.auth.disable_user(actor, "zhang.wei")
    assert await cmdb.auth.session_principal(user.id) is None
    with pytest.raises(AuthenticationError):
        await cmdb.auth.sign_in("zhang.wei", "long password")
    assert (await cmdb.auth.list_users())[0].disabled is True


async def test_hashes_stay_in_the_store(cmdb: Cmdb, actor: Actor) -> None:
    """The records the service hands out (to the API, the CLI) carry no secret and no
    hash of one; the store keeps only the hashes, which even a stored record's repr hides."""
    secret, token = await cmdb.auth.create_token(actor, "ci-bot", "editor")
    user = await cmdb.auth.create_user(actor, "zhang.wei", "long password", Role.READER)
    kept_token = await records.token_by_id(cmdb.store, token.id)
    kept_user = await records.user_by_id(cmdb.store, user.id)
    assert kept_token is not None
    assert kept_user is not None
    assert kept_token.digest == token_hash(secret)
    assert kept_user.password_hash is not None
    assert check_password("long password", kept_user.password_hash)
    for shown, hidden in ((token, kept_token.digest), (user, kept_user.password_hash)):
        for text in (repr(shown), str(dataclasses.asdict(shown))):
            assert hidden not in text
            assert secret not in text
            assert "long password" not in text
    assert kept_token.digest not in repr(kept_token)
    assert kept_user.password_hash not in repr(kept_user)
    assert (await cmdb.auth.list_tokens())[0] == token
    assert (await cmdb.auth.list_users())[0] == user
