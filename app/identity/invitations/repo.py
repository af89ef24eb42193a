"""SQL for role invitations."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Invitation:
    id: uuid.UUID
    email: str | None
    phone: str | None
    role: str
    scope_type: str
    scope_id: uuid.UUID | None
    history_from: dt.datetime | None
    invited_by: uuid.UUID | None
    created_at: dt.datetime
    expires_at: dt.datetime
    claimed_by: uuid.UUID | None
    claimed_at: dt.datetime | None
    cancelled_at: dt.datetime | None


_INVITATION = """id, email, phone, role, scope_type, scope_id, history_from, invited_by, created_at, expires_at,
    claimed_by, claimed_at, cancelled_at"""
_WAITING = "claimed_at IS NULL AND cancelled_at IS NULL AND expires_at > now()"


async def insert(
    conn: asyncpg.Connection,
    *,
    email: str | None,
    phone: str | None,
    role: str,
    scope_type: str,
    scope_id: uuid.UUID,
    history_from: dt.datetime | None,
    invited_by: uuid.UUID,
    ttl: dt.timedelta,
) -> Invitation:
    row = await conn.fetchrow(
        f"""INSERT INTO role_invitations
                (email, phone, role, scope_type, scope_id, history_from, invited_by, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, now() + $8) RETURNING {_INVITATION}""",
        email,
        phone,
        role,
        scope_type,
        scope_id,
        history_from,
        invited_by,
        ttl,
    )
    return Invitation(**dict(row))


async def get(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> Invitation | None:
    row = await conn.fetchrow(f"SELECT {_INVITATION} FROM role_invitations WHERE id = $1", invitation_id)
    return Invitation(**dict(row)) if row else None


async def waiting_at(conn: asyncpg.Connection, scope_type: str, scope_id: uuid.UUID) -> list[Invitation]:
    rows = await conn.fetch(
        f"""SELECT {_INVITATION} FROM role_invitations WHERE scope_type = $1 AND scope_id = $2 AND {_WAITING}
            ORDER BY created_at DESC, id""",
        scope_type,
        scope_id,
    )
    return [Invitation(**dict(r)) for r in rows]


async def set_code(conn: asyncpg.Connection, invitation_id: uuid.UUID, code_hash: bytes) -> Invitation | None:
    """Give a waiting invitation its (new) code; None when it is not waiting any more."""
    row = await conn.fetchrow(
        f"""UPDATE role_invitations SET code_hash = $2 WHERE id = $1 AND {_WAITING} RETURNING {_INVITATION}""",
        invitation_id,
        code_hash,
    )
    return Invitation(**dict(row)) if row else None


async def waiting_by_code(conn: asyncpg.Connection, code_hash: bytes) -> Invitation | None:
    row = await conn.fetchrow(
        f"SELECT {_INVITATION} FROM role_invitations WHERE code_hash = $1 AND {_WAITING} FOR UPDATE", code_hash
    )
    return Invitation(**dict(row)) if row else None


async def waiting_for(conn: asyncpg.Connection, *, email: str | None, phone: str | None) -> list[Invitation]:
    """The invitations waiting for this e-mail address (either case) or this phone number (its digits,
    however it was written), oldest first, locked for taking up."""
    digits = re.sub(r"\D", "", phone or "")
    rows = await conn.fetch(
        f"""SELECT {_INVITATION} FROM role_invitations
            WHERE ((lower(email) = lower($1)) OR (regexp_replace(phone, '\\D', '', 'g') = $2)) AND {_WAITING}
            ORDER BY created_at, id FOR UPDATE""",
        email,
        digits or None,
    )
    return [Invitation(**dict(r)) for r in rows]


async def claim(conn: asyncpg.Connection, invitation_id: uuid.UUID, user_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE role_invitations SET claimed_by = $2, claimed_at = now() WHERE id = $1", invitation_id, user_id
    )


async def cancel(conn: asyncpg.Connection, invitation_id: uuid.UUID) -> bool:
    done = await conn.fetchval(
        f"UPDATE role_invitations SET cancelled_at = now() WHERE id = $1 AND {_WAITING} RETURNING true", invitation_id
    )
    return bool(done)
