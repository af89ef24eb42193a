"""Where a scope sits in the hierarchy, answered by the domain that owns it.

Each domain declares its scope types with a resolver ("which society is this
flat in"), so permission checks can ask without the platform importing it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import asyncpg

GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class Scope:
    scope_type: str
    scope_id: uuid.UUID | None
    parents: dict[str, uuid.UUID] = field(default_factory=dict)


Resolver = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[Scope | None]]


@dataclass(frozen=True, slots=True)
class ScopeType:
    """A kind of place roles are held on (a society, a flat, a shop) and how to find one."""

    name: str
    resolve: Resolver


class Scopes:
    """The scope types of every installed domain."""

    def __init__(self, types: Iterable[ScopeType]) -> None:
        self._resolvers: dict[str, Resolver] = {}
        for scope_type in types:
            if scope_type.name == GLOBAL or scope_type.name in self._resolvers:
                raise ValueError(f"scope type {scope_type.name!r} is declared twice")
            self._resolvers[scope_type.name] = scope_type.resolve

    @property
    def names(self) -> frozenset[str]:
        return frozenset({GLOBAL, *self._resolvers})

    async def resolve(self, conn: asyncpg.Connection, scope_type: str, scope_id: uuid.UUID | None) -> Scope | None:
        """The scope with its parents, or None when it does not exist (or no domain declares its type)."""
        if scope_type == GLOBAL:
            return Scope(GLOBAL, None) if scope_id is None else None
        resolver = self._resolvers.get(scope_type)
        if resolver is None or scope_id is None:
            return None
        return await resolver(conn, scope_id)
