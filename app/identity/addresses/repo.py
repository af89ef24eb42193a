"""SQL for saved addresses: each person's own, one of them the default."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.sql import assignments

# The most addresses one person keeps.
MOST = 20


@dataclass(frozen=True, slots=True)
class Address:
    id: uuid.UUID
    label: str | None
    name: str
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str
    phone: str | None
    is_default: bool
    created_at: dt.datetime
    updated_at: dt.datetime


_ADDRESS = """id, label, name, line1, line2, city, region, postal_code, country, phone, is_default, created_at,
    updated_at"""


async def of_user(conn: asyncpg.Connection, user_id: uuid.UUID, *, lock: bool = False) -> list[Address]:
    """The default first, then the rest as they were added. Locked: the person's other writes wait."""
    if lock:
        await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", user_id)
    rows = await conn.fetch(
        f"SELECT {_ADDRESS} FROM addresses WHERE user_id = $1 ORDER BY is_default DESC, created_at, id", user_id
    )
    return [Address(**dict(r)) for r in rows]


async def drop_default(conn: asyncpg.Connection, user_id: uuid.UUID) -> None:
    await conn.execute("UPDATE addresses SET is_default = false WHERE user_id = $1 AND is_default", user_id)


async def insert(conn: asyncpg.Connection, user_id: uuid.UUID, fields: dict[str, Any]) -> Address:
    columns = ["user_id", *fields]
    row = await conn.fetchrow(
        f"""INSERT INTO addresses ({", ".join(columns)})
            VALUES ({", ".join(f"${i}" for i in range(1, len(columns) + 1))}) RETURNING {_ADDRESS}""",
        user_id,
        *fields.values(),
    )
    return Address(**dict(row))


async def update(
    conn: asyncpg.Connection, user_id: uuid.UUID, address_id: uuid.UUID, changes: dict[str, Any]
) -> Address | None:
    row = await conn.fetchrow(
        f"""UPDATE addresses SET {assignments(changes, 3)}{", " if changes else ""}updated_at = now()
            WHERE id = $1 AND user_id = $2 RETURNING {_ADDRESS}""",
        address_id,
        user_id,
        *changes.values(),
    )
    return Address(**dict(row)) if row else None


async def delete(conn: asyncpg.Connection, user_id: uuid.UUID, address_id: uuid.UUID) -> Address | None:
    row = await conn.fetchrow(
        f"DELETE FROM addresses WHERE id = $1 AND user_id = $2 RETURNING {_ADDRESS}", address_id, user_id
    )
    return Address(**dict(row)) if row else None


async def make_default(conn: asyncpg.Connection, address_id: uuid.UUID) -> None:
    await conn.execute("UPDATE addresses SET is_default = true WHERE id = $1", address_id)
