"""SQL for a person's notification preferences and the phones their pushes go to."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Preferences:
    order_emails: bool
    order_pushes: bool
    promotions: bool
    promotions_changed_at: dt.datetime | None


DEFAULTS = Preferences(order_emails=True, order_pushes=True, promotions=False, promotions_changed_at=None)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone a message may go to: where, and what they let through."""

    user_id: uuid.UUID
    name: str
    email: str | None
    preferences: Preferences
    devices: list[str]


def _preferences(row: asyncpg.Record) -> Preferences:
    if row["order_emails"] is None:
        return DEFAULTS
    return Preferences(row["order_emails"], row["order_pushes"], row["promotions"], row["promotions_changed_at"])


async def preferences(conn: asyncpg.Connection, user_id: uuid.UUID) -> Preferences:
    row = await conn.fetchrow(
        "SELECT order_emails, order_pushes, promotions, promotions_changed_at FROM notification_preferences "
        "WHERE user_id = $1",
        user_id,
    )
    return _preferences(row) if row else DEFAULTS


async def set_preferences(conn: asyncpg.Connection, user_id: uuid.UUID, changes: dict[str, bool]) -> Preferences:
    """Apply `changes` over what is kept (or the defaults) in one statement, so two changes at once both
    land; a change to `promotions` stamps the moment (consent)."""
    row = await conn.fetchrow(
        """INSERT INTO notification_preferences AS p (user_id, order_emails, order_pushes, promotions,
                                                      promotions_changed_at)
           VALUES ($1, coalesce($2, true), coalesce($3, true), coalesce($4, false),
                   CASE WHEN $4 THEN now() END)
           ON CONFLICT (user_id) DO UPDATE
           SET order_emails = coalesce($2, p.order_emails), order_pushes = coalesce($3, p.order_pushes),
               promotions = coalesce($4, p.promotions), updated_at = now(),
               promotions_changed_at = CASE WHEN $4 IS DISTINCT FROM p.promotions AND $4 IS NOT NULL THEN now()
                                            ELSE p.promotions_changed_at END
           RETURNING order_emails, order_pushes, promotions, promotions_changed_at""",
        user_id,
        changes.get("order_emails"),
        changes.get("order_pushes"),
        changes.get("promotions"),
    )
    return _preferences(row)


_RECIPIENTS = """
SELECT u.id, u.name, u.email, p.order_emails, p.order_pushes, p.promotions, p.promotions_changed_at,
       coalesce((SELECT array_agg(d.token ORDER BY d.updated_at DESC) FROM device_tokens d WHERE d.user_id = u.id),
                '{}') AS devices
FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id
WHERE u.id = ANY($1::uuid[]) AND u.disabled_at IS NULL
"""


def _recipient(row: asyncpg.Record) -> Recipient:
    return Recipient(row["id"], row["name"], row["email"], _preferences(row), list(row["devices"]))


async def recipients(conn: asyncpg.Connection, user_ids: list[uuid.UUID], *, promotions_only: bool) -> list[Recipient]:
    """The enabled accounts among `user_ids`, with their preferences and phones; with `promotions_only`,
    only those who opted in to promotions and have an e-mail address."""
    query = _RECIPIENTS + (" AND p.promotions AND u.email IS NOT NULL ORDER BY u.id" if promotions_only else "")
    return [_recipient(row) for row in await conn.fetch(query, user_ids)]


# Devices ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceOwner:
    user_id: uuid.UUID
    session_id: uuid.UUID | None


async def upsert_device(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, session_id: uuid.UUID | None, token: str, platform: str
) -> DeviceOwner | None:
    """Make the token the caller's session's; returns who held it before (None for a new token)."""
    row = await conn.fetchrow(
        """WITH before AS (SELECT user_id, session_id FROM device_tokens WHERE token = $2 FOR UPDATE),
                put AS (INSERT INTO device_tokens (user_id, token, platform, session_id) VALUES ($1, $2, $3, $4)
                        ON CONFLICT (token) DO UPDATE
                        SET user_id = $1, platform = $3, session_id = $4, updated_at = now())
           SELECT user_id, session_id FROM before""",
        user_id,
        token,
        platform,
        session_id,
    )
    return DeviceOwner(row["user_id"], row["session_id"]) if row else None


async def forget_devices(conn: asyncpg.Connection, tokens: list[str]) -> None:
    await conn.execute("DELETE FROM device_tokens WHERE token = ANY($1::text[])", tokens)
