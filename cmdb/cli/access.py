"""``cmdb token`` and ``cmdb user``: API tokens and sign-in users from a terminal.

This is how the first admin token is made (the command line talks to the store
directly, so it needs no token itself). A new token is printed once, alone on
standard output, so ``TOKEN=$(cmdb token create ...)`` works.
"""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click

from cmdb.cli.base import err, with_cmdb, with_store
from cmdb.model.access import Role
from cmdb.model.clock import Clock
from cmdb.model.records import Actor, Channel
from cmdb.services import Cmdb
from cmdb.services.access.records import ApiToken, User

T = TypeVar("T")
ROLES = click.Choice([r.value for r in Role])


def cli_actor() -> Actor:
    """Who runs the command: the operating-system user, through the CLI."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(name=f"cli:{name}", channel=Channel.CLI)


def _when(value: datetime | None, clock: Clock) -> str:
    """A stored time in the CMDB's zone with its offset (``--time-zone``)."""
    return clock.show(value) or "-"


@click.group()
def token() -> None:
    """API tokens: create (shown once), list, revoke."""


@token.command("create")
@with_store
@click.option("--name", required=True, help="What the token is for, e.g. ci-importer.")
@click.option("--role", type=ROLES, default="reader", show_default=True)
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None,
              help="Days until it stops working (default: never).")
def token_create(store_url: str | None, db: Path | None, name: str, role: str,
                 expires_days: int | None) -> None:
    """Create an API token and print it once (it cannot be shown again)."""
    secret, made = with_cmdb(store_url, db, lambda c: c.auth.create_token(
        cli_actor(), name, role, expires_days))
    err.print(f"Created token {made.name!r} ({made.role.value}, id {made.id}). "
              "Copy it now: it is not shown again.")
    click.echo(secret)


@token.command("list")
@with_store
@click.option("--all", "show_all", is_flag=True, help="Include revoked tokens.")
def token_list(store_url: str | None, db: Path | None, show_all: bool) -> None:
    """List API tokens: id, name, role, prefix, expiry, last use."""
    async def tokens(c: Cmdb) -> tuple[list[ApiToken], Clock]:
        return await c.auth.list_tokens(show_all), c.clock

    listed, clock = with_cmdb(store_url, db, tokens)
    click.echo(f"{'id':24}  {'name':20} {'role':8} {'prefix':10} {'expires':28}  "
               f"{'last used':28}  state")
    for t in listed:
        click.echo(f"{t.id:24}  {t.name[:20]:20} {t.role.value:8} {t.prefix:10} "
                   f"{_when(t.expires_at, clock):28}  "
                   f"{_when(t.last_used_at, clock):28}  {t.state()}")


@token.command("revoke")
@with_store
@click.argument("ref")
def token_revoke(store_url: str | None, db: Path | None, ref: str) -> None:
    """Revoke the token with this id or name (a running server stops accepting it
    within 5 seconds)."""
    revoked = with_cmdb(store_url, db, lambda c: c.auth.revoke_token(cli_actor(), ref))
    click.echo(f"revoked {revoked.name} ({revoked.id})")


@click.group()
def user() -> None:
    """Users who sign in to the browser pages: create, list, disable, password,
    sign-out-everywhere."""


@user.command("create")
@with_store
@click.argument("login")
@click.option("--role", type=ROLES, default="reader", show_default=True)
@click.option("--password-stdin", is_flag=True,
              help="Read the password from standard input instead of prompting.")
def user_create(store_url: str | None, db: Path | None, login: str, role: str,
                password_stdin: bool) -> None:
    """Create a user (the password is asked for, or read with --password-stdin)."""
    password = _password(password_stdin)
    made = with_cmdb(store_url, db, lambda c: c.auth.create_user(
        cli_actor(), login, password, role))
    click.echo(f"created user {made.login} ({made.role.value})")


@user.command("list")
@with_store
def user_list(store_url: str | None, db: Path | None) -> None:
    """List users: login, role, disabled, last sign-in."""
    async def users(c: Cmdb) -> tuple[list[User], Clock]:
        return await c.auth.list_users(), c.clock

    listed, clock = with_cmdb(store_url, db, users)
    click.echo(f"{'login':24} {'role':8} {'state':9} last sign-in")
    for u in listed:
        state = "disabled" if u.disabled else "active"
        click.echo(f"{u.login[:24]:24} {u.role.value:8} {state:9} "
                   f"{_when(u.last_sign_in_at, clock)}")


@user.command("disable")
@with_store
@click.argument("login")
def user_disable(store_url: str | None, db: Path | None, login: str) -> None:
    """Disable a user: they can no longer sign in, and their sessions end."""
    disabled = with_cmdb(store_url, db, lambda c: c.auth.disable_user(cli_actor(), login))
    click.echo(f"disabled {disabled.login}")


@user.command("password")
@with_store
@click.argument("login")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from standard input instead of prompting.")
def user_password(store_url: str | None, db: Path | None, login: str,
                  password_stdin: bool) -> None:
    """Set a user's password (asked for, or read with --password-stdin); every session
    of theirs ends."""
    password = _password(password_stdin)
    changed = with_cmdb(store_url, db, lambda c: c.auth.set_password(
        cli_actor(), login, password))
    click.echo(f"set the password of {changed.login}; their sessions have ended")


@user.command("sign-out-everywhere")
@with_store
@click.argument("login", required=False)
@click.option("--all", "everyone", is_flag=True, help="Sign out every user.")
def user_sign_out_everywhere(store_url: str | None, db: Path | None, login: str | None,
                             everyone: bool) -> None:
    """End every browser session of LOGIN (or of every user with --all): they must sign
    in again. A running server stops accepting the sessions within 5 seconds."""
    if (login is None) == (not everyone):
        raise click.UsageError("give a LOGIN, or --all for every user")
    count = with_cmdb(store_url, db, lambda c: c.auth.sign_out_everywhere(
        cli_actor(), None if everyone else login))
    click.echo(f"signed out {login if login else f'{count} users'} everywhere")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
