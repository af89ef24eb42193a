"""Where a scope sits in the hierarchy, answered by the domain that owns it.

Domains register a resolver per scope type (society, flat, mall, shop) so
the permission checks can ask "which society is this flat in" without the
platform importing the domains.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg


@dataclass(frozen=True, slots=True)
class Scope:
    scope_type: str
    scope_id: uuid.UUID | None
    parents: dict[str, uuid.UUID] = field(default_factory=dict)


Resolver = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[Scope | None]]
_resolvers: dict[str, Resolver] = {}


def register(scope_type: str, resolver: Resolver) -> None:
    _resolvers[scope_type] = resolver


async def resolve(conn: asyncpg.Connection, scope_type: str, scope_id: uuid.UUID | None) -> Scope | None:
    """The scope with its parents, or None when it does not exist (or its domain is not built)."""
    if scope_type == "global":
        return Scope("global", None) if scope_id is None else None
    resolver = _resolvers.get(scope_type)
    if resolver is None or scope_id is None:
        return None
    return await resolver(conn, scope_id)
