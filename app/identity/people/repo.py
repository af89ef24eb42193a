"""SQL for finding, reading, changing and deleting people (the users table, seen by an admin)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.sql import assignments, like_prefix, prefix_search


@dataclass(frozen=True, slots=True)
class PersonRole:
    id: uuid.UUID
    role: str
    scope_type: str
    scope_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Person:
    """A user as an admin sees them: who they are, whether they may sign in, and every role they hold."""

    id: uuid.UUID
    email: str | None
    username: str | None
    name: str
    phone: str | None
    image_url: str | None
    disabled: bool
    password_changed_at: dt.datetime | None
    created_at: dt.datetime
    roles: list[PersonRole]


# The columns a person's change may set.
COLUMNS = ("name", "phone", "image_url", "username")

_PERSON = """u.id, u.email, u.username, u.name, u.phone, u.image_url, u.disabled_at IS NOT NULL AS disabled,
    u.password_changed_at, u.created_at,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id, 'role', r.role, 'scope_type', r.scope_type,
                                                  'scope_id', r.scope_id) ORDER BY r.created_at, r.id), '[]')
     FROM role_assignments r WHERE r.user_id = u.id) AS roles"""


def _person(row: asyncpg.Record) -> Person:
    roles = [
        PersonRole(uuid.UUID(r["id"]), r["role"], r["scope_type"], uuid.UUID(r["scope_id"]) if r["scope_id"] else None)
        for r in row["roles"]
    ]
    return Person(**{k: row[k] for k in Person.__slots__ if k != "roles"}, roles=roles)  # type: ignore[attr-defined]


async def search(
    conn: asyncpg.Connection,
    *,
    words: str | None,
    role: str | None,
    scope_type: str | None,
    scope_id: uuid.UUID | None,
    after: tuple[Any, ...] | None,
    limit: int,
) -> list[tuple[Person, str]]:
    """A page of living accounts by name (then id), each with its sort key: `words` finds every word as a
    prefix of a word of the name, or the start of the e-mail, username or phone; the role filters are met
    by one role assignment."""
    rows = await conn.fetch(
        f"""SELECT {_PERSON}, lower(u.name) AS sort_key FROM users u
            WHERE u.deleted_at IS NULL
              AND ($1::text IS NULL OR to_tsvector('simple', u.name) @@ {prefix_search("$1")}
                   OR lower(u.email) LIKE $2 OR lower(u.username) LIKE $2 OR u.phone LIKE $2)
              AND (($3::text IS NULL AND $4::text IS NULL AND $5::uuid IS NULL) OR EXISTS (
                   SELECT 1 FROM role_assignments r WHERE r.user_id = u.id AND ($3::text IS NULL OR r.role = $3)
                     AND ($4::text IS NULL OR r.scope_type = $4) AND ($5::uuid IS NULL OR r.scope_id = $5)))
              AND ($6::text IS NULL OR (lower(u.name), u.id) > ($6, $7::uuid))
            ORDER BY lower(u.name), u.id LIMIT $8""",
        words,
        None if words is None else like_prefix(words.lower()),
        role,
        scope_type,
        scope_id,
        *(after if after is not None else (None, None)),
        limit + 1,
    )
    return [(_person(r), r["sort_key"]) for r in rows]


async def get(conn: asyncpg.Connection, user_id: uuid.UUID) -> Person | None:
    row = await conn.fetchrow(f"SELECT {_PERSON} FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL", user_id)
    return _person(row) if row else None


async def update(conn: asyncpg.Connection, user_id: uuid.UUID, changes: dict[str, Any]) -> bool:
    """False when the username is someone else's already."""
    if not changes:
        return True
    try:
        async with conn.transaction():  # a savepoint: the caller's transaction goes on after a clash
            await conn.execute(
                f"UPDATE users SET {assignments(changes, 2)}, updated_at = now() WHERE id = $1",
                user_id,
                *changes.values(),
            )
    except asyncpg.UniqueViolationError:
        return False
    return True


async def anonymise(conn: asyncpg.Connection, user_id: uuid.UUID) -> bool:
    """Forget what identifies a person, keeping the row (what refers to it stays whole); their roles and
    saved addresses go. False when there is no such living account."""
    done = await conn.fetchval(
        """UPDATE users SET name = 'Deleted user', email = NULL, username = NULL, phone = NULL, image_url = NULL,
                  password_hash = NULL, firebase_uid = NULL, disabled_at = coalesce(disabled_at, now()),
                  deleted_at = now(), updated_at = now()
           WHERE id = $1 AND deleted_at IS NULL RETURNING true""",
        user_id,
    )
    if done:
        await conn.execute("DELETE FROM role_assignments WHERE user_id = $1", user_id)
        await conn.execute("DELETE FROM addresses WHERE user_id = $1", user_id)
    return bool(done)


@dataclass(frozen=True, slots=True)
class RoleHolder:
    """Someone holding a role on a place, with what a staff or guards screen shows of them."""

    id: uuid.UUID  # the role assignment's
    user_id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    image_url: str | None
    disabled: bool
    role: str
    scope_type: str
    scope_id: uuid.UUID | None
    created_at: dt.datetime


async def holders_within(
    conn: asyncpg.Connection,
    *,
    scope_type: str,
    scope_id: uuid.UUID,
    role: str | None,
    after: tuple[Any, ...] | None,
    limit: int,
) -> list[tuple[RoleHolder, str]]:
    """The roles held on a place or on the places inside it (a society's flats, a mall's shops), by the
    holder's name, each with its sort key."""
    rows = await conn.fetch(
        """SELECT r.id, r.user_id, u.name, u.email, u.phone, u.image_url, u.disabled_at IS NOT NULL AS disabled,
                  r.role, r.scope_type, r.scope_id, r.created_at, lower(u.name) AS sort_key
           FROM role_assignments r JOIN users u ON u.id = r.user_id
           WHERE ((r.scope_type = $1 AND r.scope_id = $2) OR r.within @> ARRAY[$2]::uuid[])
             AND ($3::text IS NULL OR r.role = $3)
             AND ($4::text IS NULL OR (lower(u.name), r.id) > ($4, $5::uuid))
           ORDER BY lower(u.name), r.id LIMIT $6""",
        scope_type,
        scope_id,
        role,
        *(after if after is not None else (None, None)),
        limit + 1,
    )
    return [(RoleHolder(**{k: r[k] for k in RoleHolder.__slots__}), r["sort_key"]) for r in rows]  # type: ignore[attr-defined]


async def reachable_at(conn: asyncpg.Connection, *, email: str | None, phone_digits: str | None) -> list[uuid.UUID]:
    """Live accounts with this e-mail address (either case) or a phone number of these digits."""
    rows = await conn.fetch(
        """SELECT id FROM users WHERE disabled_at IS NULL AND deleted_at IS NULL
             AND (lower(email) = lower($1) OR ($2::text <> '' AND regexp_replace(phone, '\\D', '', 'g') = $2))
           ORDER BY id""",
        email,
        phone_digits or "",
    )
    return [r["id"] for r in rows]
