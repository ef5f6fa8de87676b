"""Who may do what: the roles, and the principal (a token, a signed-in user, or the
local demo user) a request acts as.

Roles are not a ladder: an editor changes CIs, a labeler prints labels, an auditor
imports and audits; each of them can read; an admin can do everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a token or user is allowed to do."""

    READER = "reader"
    EDITOR = "editor"
    AUDITOR = "auditor"
    LABELER = "labeler"
    ADMIN = "admin"


def allows(have: Role, need: Role) -> bool:
    """Whether a caller with role ``have`` may do what needs role ``need``."""
    return need is Role.READER or have is Role.ADMIN or have is need


def roles_allowed(need: Role) -> set[Role]:
    """Every role that may do what needs ``need`` (the role matrix reads this)."""
    return {r for r in Role if allows(r, need)}


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: its name goes into history, its role decides what it may do.

    ``kind`` is ``token``, ``user`` or ``local`` (demo mode without authentication);
    ``id`` is the token's or user's record id, which rate limits are kept by.
    """

    name: str
    role: Role
    kind: str
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


LOCAL = Principal(name="local", role=Role.ADMIN, kind="local", id="local")
