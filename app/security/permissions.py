"""Who may do what: roles, their scopes, and the one check routes call.

A role assignment is `(role, scope_type, scope_id)`; `admin` covers
everything. Scope hierarchy (which society a flat is in, which mall a shop
is in) is resolved by the domain that owns it through `app.security.scopes`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.http import Forbidden
from app.security.scopes import Scope

ROLE_SCOPES: dict[str, str] = {
    "admin": "global",
    "customer": "global",
    "society_admin": "society",
    "guard": "society",
    "resident": "flat",
    "mall_admin": "mall",
    "security": "mall",
    "employee": "shop",
    "shop_manager": "shop",
}
SCOPE_TYPES = frozenset(ROLE_SCOPES.values())

# The roles each kind of scope admin may hand out inside its own scope.
DELEGATED_ROLES: dict[str, frozenset[str]] = {
    "society_admin": frozenset({"society_admin", "guard", "resident"}),
    "mall_admin": frozenset({"mall_admin", "security", "employee", "shop_manager"}),
}


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    scope_type: str
    scope_id: uuid.UUID | None


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
        return any(g.role == "admin" for g in self.grants)

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


def require(principal: Principal, roles: str | Iterable[str], scope_type: str, scope_id: uuid.UUID | None) -> None:
    """Raise 403 unless the caller holds one of `roles` on the scope (or is admin)."""
    if not principal.has(roles, scope_type, scope_id):
        raise Forbidden()


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden()


def may_grant(principal: Principal, role: str, scope: Scope) -> bool:
    """Admins grant anything; a society or mall admin grants its roles inside its own scope."""
    if principal.is_admin:
        return True
    for admin_role, roles in DELEGATED_ROLES.items():
        if role not in roles:
            continue
        admin_scope = ROLE_SCOPES[admin_role]
        target = scope.scope_id if scope.scope_type == admin_scope else scope.parents.get(admin_scope)
        if target is not None and principal.has(admin_role, admin_scope, target):
            return True
    return False


def may_join(principal: Principal, scope: Scope) -> bool:
    """Room rules from DESIGN.md: who may listen to a flat, society, mall or shop."""
    if principal.is_admin:
        return True
    kind, sid = scope.scope_type, scope.scope_id
    if kind == "flat":
        return principal.has("resident", "flat", sid)
    if kind == "society":
        return principal.has(("guard", "society_admin"), "society", sid)
    if kind == "mall":
        return principal.has(("security", "mall_admin"), "mall", sid)
    if kind == "shop":
        mall_id = scope.parents.get("mall")
        return principal.has(("employee", "shop_manager"), "shop", sid) or (
            mall_id is not None and principal.has("mall_admin", "mall", mall_id)
        )
    return False
