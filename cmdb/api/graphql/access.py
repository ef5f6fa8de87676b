"""Access in GraphQL: who am I, and (for admins) API tokens, users and their sessions.

A new token's secret is in the ``createToken`` answer only; it is never stored
or shown again. Disabling a user, setting or changing a password and
``signOutEverywhere`` end sessions in the store at once. The roles each field needs
are declared in ``permissions``.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from cmdb.api.graphql.context import Context
from cmdb.errors import ValidationError
from cmdb.model.access import Role
from cmdb.services.access.records import ApiToken, User


@strawberry.enum(name="Role", description="What a token or user may do.")
class RoleEnum(Enum):
    READER = "reader"
    EDITOR = "editor"
    AUDITOR = "auditor"
    LABELER = "labeler"
    ADMIN = "admin"


@strawberry.type(name="ApiToken", description="An API token (its secret is never shown again).")
class ApiTokenType:
    token: strawberry.Private[ApiToken]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.token.id)

    @strawberry.field
    def name(self) -> str:
        return self.token.name

    @strawberry.field
    def role(self) -> RoleEnum:
        return RoleEnum(self.token.role.value)

    @strawberry.field(description="The first characters of the token, to recognise it.")
    def prefix(self) -> str:
        return self.token.prefix

    @strawberry.field
    def created_at(self) -> datetime:
        return self.token.created_at

    @strawberry.field
    def created_by(self) -> str | None:
        return self.token.created_by

    @strawberry.field
    def expires_at(self) -> datetime | None:
        return self.token.expires_at

    @strawberry.field(description="Recorded at most once a minute.")
    def last_used_at(self) -> datetime | None:
        return self.token.last_used_at

    @strawberry.field
    def revoked_at(self) -> datetime | None:
        return self.token.revoked_at

    @strawberry.field(description="Neither revoked nor expired.")
    def active(self) -> bool:
        return self.token.active()


@strawberry.type(name="NewApiToken")
class NewApiTokenType:
    token: str = strawberry.field(description="The secret: shown here once, never again.")
    api_token: ApiTokenType


@strawberry.type(name="User", description="Someone who signs in to the browser pages.")
class UserType:
    user: strawberry.Private[User]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.user.id)

    @strawberry.field
    def login(self) -> str:
        return self.user.login

    @strawberry.field
    def role(self) -> RoleEnum:
        return RoleEnum(self.user.role.value)

    @strawberry.field
    def disabled(self) -> bool:
        return self.user.disabled

    @strawberry.field
    def created_at(self) -> datetime:
        return self.user.created_at

    @strawberry.field
    def last_sign_in_at(self) -> datetime | None:
        return self.user.last_sign_in_at


@strawberry.type(name="Principal", description="Who this request acts as.")
class PrincipalType:
    name: str
    role: RoleEnum
    kind: str = strawberry.field(description="token, user, or local (demo mode).")


@strawberry.type
class AuthQuery:
    """Who am I; API tokens and users (admins only)."""

    @strawberry.field(description="Who this request acts as, and with which role.")
    def me(self, info: Info[Context, None]) -> PrincipalType | None:
        p = info.context.principal
        return PrincipalType(name=p.name, role=RoleEnum(p.role.value), kind=p.kind) if p else None

    @strawberry.field(description="API tokens, newest first (admins only).")
    async def tokens(self, info: Info[Context, None],
                     include_revoked: bool = False) -> list[ApiTokenType]:
        tokens = await info.context.cmdb.auth.list_tokens(include_revoked)
        return [ApiTokenType(token=t) for t in reversed(tokens)]

    @strawberry.field(description="Users who sign in to the browser pages (admins only).")
    async def users(self, info: Info[Context, None]) -> list[UserType]:
        return [UserType(user=u) for u in await info.context.cmdb.auth.list_users()]


@strawberry.type
class AuthMutation:
    """API tokens and users (admins only)."""

    @strawberry.mutation(name="createToken",
                         description="Create an API token; its secret is in the answer only.")
    async def create_token(self, info: Info[Context, None], name: str, role: RoleEnum,
                           expires_in_days: int | None = None) -> NewApiTokenType:
        ctx = info.context
        secret, token = await ctx.cmdb.auth.create_token(ctx.actor, name, Role(role.value),
                                                         expires_in_days)
        return NewApiTokenType(token=secret, api_token=ApiTokenType(token=token))

    @strawberry.mutation(name="revokeToken",
                         description="Revoke an API token (by id or name); it stops working.")
    async def revoke_token(self, info: Info[Context, None], id: strawberry.ID) -> ApiTokenType:
        ctx = info.context
        return ApiTokenType(token=await ctx.cmdb.auth.revoke_token(ctx.actor, str(id)))

    @strawberry.mutation(name="createUser", description="Create a user who signs in.")
    async def create_user(self, info: Info[Context, None], login: str, password: str,
                          role: RoleEnum) -> UserType:
        ctx = info.context
        user = await ctx.cmdb.auth.create_user(ctx.actor, login, password, Role(role.value))
        return UserType(user=user)

    @strawberry.mutation(name="disableUser",
                         description="Disable a user: sign-in and their sessions stop working.")
    async def disable_user(self, info: Info[Context, None], login: str) -> UserType:
        ctx = info.context
        return UserType(user=await ctx.cmdb.auth.disable_user(ctx.actor, login))

    @strawberry.mutation(name="setPassword",
                         description="Give a user a new password (8 to 1024 characters); "
                                     "every session of theirs ends.")
    async def set_password(self, info: Info[Context, None], login: str,
                           password: str) -> UserType:
        ctx = info.context
        return UserType(user=await ctx.cmdb.auth.set_password(ctx.actor, login, password))

    @strawberry.mutation(name="signOutEverywhere",
                         description="End every session of one user (login), or of every "
                                     "user (no login): their browsers must sign in again. "
                                     "Returns how many users were signed out.")
    async def sign_out_everywhere(self, info: Info[Context, None],
                                  login: str | None = None) -> int:
        ctx = info.context
        return await ctx.cmdb.auth.sign_out_everywhere(ctx.actor, login)

    @strawberry.mutation(name="changePassword",
                         description="The signed-in user changes their own password, giving "
                                     "the current one; every session of theirs ends (sign "
                                     "in again with the new one).")
    async def change_password(self, info: Info[Context, None], current_password: str,
                              new_password: str) -> UserType:
        ctx = info.context
        if ctx.principal is None:
            raise ValidationError("sign in first", field="currentPassword")
        return UserType(user=await ctx.cmdb.auth.change_password(
            ctx.principal, current_password, new_password))
