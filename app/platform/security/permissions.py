"""Who may do what: roles, their scopes, room rules, and the one check routes call.

A role assignment is `(role, scope_type, scope_id)`; `admin` covers
everything. Domains declare their roles and rooms (`DomainModule`); `Rules`
answers from those declarations, so the platform names no domain's role.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.platform.http import Forbidden
from app.platform.security.scopes import GLOBAL, Scope

ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Role:
    """A role a domain defines: the scope type it is held on, and the scope-admin roles that
    may hand it out inside their own scope (admins hand out every role). A `fresh_start` role
    sees its scope's past only from the moment it was granted (a new resident does not read
    the previous tenant's visitors), unless whoever may grant it allows more."""

    name: str
    scope_type: str
    granted_by: tuple[str, ...] = ()
    fresh_start: bool = False


@dataclass(frozen=True, slots=True)
class RoomType:
    """A room per scope of type `name` (`<name>:<scope id>`): joined by holders of `roles` on
    that scope, or of `parent_roles[parent scope type]` on the scope's parent (admins always)."""

    name: str
    roles: tuple[str, ...]
    parent_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Grant:
    """One role held on one scope; `history_from` is the earliest moment of the scope's past
    the holder may see (None: all of it)."""

    role: str
    scope_type: str
    scope_id: uuid.UUID | None
    history_from: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller and everything it was granted."""

    user_id: uuid.UUID
    session_id: uuid.UUID | None
    name: str
    email: str | None
    grants: tuple[Grant, ...] = field(default=())

    @property
    def is_admin(self) -> bool:
        return any(g.role == ADMIN for g in self.grants)

    def has(self, roles: str | Iterable[str], scope_type: str, scope_id: uuid.UUID | None) -> bool:
        """True when one of `roles` is held on exactly this scope, or the caller is admin."""
        wanted = {roles} if isinstance(roles, str) else set(roles)
        return self.is_admin or any(
            g.role in wanted and g.scope_type == scope_type and g.scope_id == scope_id for g in self.grants
        )

    def scope_ids(self, roles: str | Iterable[str], scope_type: str) -> set[uuid.UUID]:
        """Ids of the scopes of `scope_type` where the caller holds one of `roles`."""
        wanted = {roles} if isinstance(roles, str) else set(roles)
        return {
            g.scope_id
            for g in self.grants
            if g.role in wanted and g.scope_type == scope_type and g.scope_id is not None
        }

    def history_from(self, roles: str | Iterable[str], scope_type: str) -> dict[uuid.UUID, dt.datetime | None]:
        """For each scope where the caller holds one of `roles`, the earliest moment it may see."""
        wanted = {roles} if isinstance(roles, str) else set(roles)
        found: dict[uuid.UUID, dt.datetime | None] = {}
        for g in self.grants:
            if g.role in wanted and g.scope_type == scope_type and g.scope_id is not None:
                found[g.scope_id] = (
                    _earliest(found[g.scope_id], g.history_from) if g.scope_id in found else g.history_from
                )
        return found


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return None if a is None or b is None else min(a, b)


@dataclass(frozen=True, slots=True)
class Access:
    """A caller's right to a room: `history_from` bounds the past it may replay (None: all of it)."""

    history_from: dt.datetime | None = None


EVERYTHING = Access()


def require(principal: Principal, roles: str | Iterable[str], scope_type: str, scope_id: uuid.UUID | None) -> None:
    """Raise 403 unless the caller holds one of `roles` on the scope (or is admin)."""
    if not principal.has(roles, scope_type, scope_id):
        raise Forbidden()


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden()


class Rules:
    """The roles and room types every installed domain declared."""

    def __init__(self, roles: Iterable[Role], rooms: Iterable[RoomType]) -> None:
        self._roles: dict[str, Role] = {}
        for role in roles:
            if role.name in self._roles:
                raise ValueError(f"role {role.name!r} is declared twice")
            self._roles[role.name] = role
        for role in self._roles.values():
            unknown = [g for g in role.granted_by if g not in self._roles]
            if unknown:
                raise ValueError(f"role {role.name!r} is granted by undeclared roles {unknown}")
        self._rooms = {room.name: room for room in rooms}

    @property
    def roles(self) -> tuple[Role, ...]:
        return tuple(self._roles.values())

    @property
    def room_types(self) -> frozenset[str]:
        return frozenset(self._rooms)

    def scope_type_of(self, role: str) -> str | None:
        """The scope type `role` is held on; None for a role no domain declares."""
        found = self._roles.get(role)
        return found.scope_type if found else None

    def may_grant(self, principal: Principal, role: str, scope: Scope) -> bool:
        """Admins grant anything; a scope admin grants the roles it may hand out inside its own scope."""
        if principal.is_admin:
            return True
        found = self._roles.get(role)
        if found is None:
            return False
        for admin_role in found.granted_by:
            admin_scope = self._roles[admin_role].scope_type
            target = scope.scope_id if scope.scope_type == admin_scope else scope.parents.get(admin_scope)
            if target is not None and principal.has(admin_role, admin_scope, target):
                return True
        return False

    def manages(self, principal: Principal, scope: Scope) -> bool:
        """Whether the caller may see and manage the people of `scope`: admins, and whoever holds a role
        that hands out roles (a scope admin) on the scope or on one it sits inside."""
        if principal.is_admin:
            return True
        granting = {g for role in self._roles.values() for g in role.granted_by}
        for name in granting:
            admin_scope = self._roles[name].scope_type
            target = scope.scope_id if scope.scope_type == admin_scope else scope.parents.get(admin_scope)
            if target is not None and principal.has(name, admin_scope, target):
                return True
        return False

    def starts_fresh(self, role: str) -> bool:
        """Whether a new grant of `role` sees its scope's past only from the grant on, by default."""
        found = self._roles.get(role)
        return found is not None and found.fresh_start

    def access(self, principal: Principal, scope: Scope) -> Access | None:
        """Whether the caller may listen to the room of this scope, and how far back; None: not at all.
        Holding several roles that open the room, the caller sees as far back as the widest."""
        if principal.is_admin:
            return EVERYTHING
        room = self._rooms.get(scope.scope_type)
        if room is None or scope.scope_type == GLOBAL:
            return None
        opening = [(room.roles, scope.scope_type, scope.scope_id)] + [
            (roles, parent_type, scope.parents[parent_type])
            for parent_type, roles in room.parent_roles.items()
            if scope.parents.get(parent_type) is not None
        ]
        held = [
            g.history_from
            for roles, scope_type, scope_id in opening
            for g in principal.grants
            if g.role in roles and g.scope_type == scope_type and g.scope_id == scope_id
        ]
        if not held:
            return None
        return EVERYTHING if None in held else Access(min(h for h in held if h is not None))
