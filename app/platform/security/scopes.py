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


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A place another sits inside, as people know it: its kind, id and name."""

    kind: str
    id: uuid.UUID
    name: str


@dataclass(frozen=True, slots=True)
class Place:
    """How a scope is shown to people (a home screen, say): its name, and what it sits inside, outermost
    first (a flat's society, complex and block)."""

    id: uuid.UUID
    name: str
    within: tuple[PlaceRef, ...] = ()


Resolver = Callable[[asyncpg.Connection, uuid.UUID], Awaitable[Scope | None]]
Describer = Callable[[asyncpg.Connection, list[uuid.UUID]], Awaitable[dict[uuid.UUID, Place]]]
PostFinder = Callable[[asyncpg.Connection, uuid.UUID, list[uuid.UUID]], Awaitable[dict[uuid.UUID, str]]]


@dataclass(frozen=True, slots=True)
class ScopeType:
    """A kind of place roles are held on (a society, a flat, a shop), how to find one, how to name many
    at once for people, and where in each of them one person works (a guard's gate), if it says."""

    name: str
    resolve: Resolver
    describe: Describer | None = None
    posts: PostFinder | None = None


class Scopes:
    """The scope types of every installed domain."""

    def __init__(self, types: Iterable[ScopeType]) -> None:
        self._resolvers: dict[str, Resolver] = {}
        self._describers: dict[str, Describer] = {}
        self._posts: dict[str, PostFinder] = {}
        for scope_type in types:
            if scope_type.name == GLOBAL or scope_type.name in self._resolvers:
                raise ValueError(f"scope type {scope_type.name!r} is declared twice")
            self._resolvers[scope_type.name] = scope_type.resolve
            if scope_type.describe is not None:
                self._describers[scope_type.name] = scope_type.describe
            if scope_type.posts is not None:
                self._posts[scope_type.name] = scope_type.posts

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

    async def describe(self, conn: asyncpg.Connection, scope_type: str, ids: list[uuid.UUID]) -> dict[uuid.UUID, Place]:
        """Names for these scopes of one type (those that exist); nothing for a type no domain names."""
        describer = self._describers.get(scope_type)
        return await describer(conn, ids) if describer is not None and ids else {}

    async def posts(
        self, conn: asyncpg.Connection, scope_type: str, user_id: uuid.UUID, ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, str]:
        """Where `user_id` works in each of these places, of those that name it (a guard's gate)."""
        finder = self._posts.get(scope_type)
        return await finder(conn, user_id, ids) if finder is not None and ids else {}
