"""SQL for a shop's customer records: written, found, changed, and linked to an account."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.sql import assignments, like_prefix


@dataclass(frozen=True, slots=True)
class Customer:
    id: uuid.UUID
    shop_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    note: str | None
    user_id: uuid.UUID | None  # the account it is linked to
    linked_at: dt.datetime | None
    points: int  # its loyalty balance at the shop (its account's, once linked)
    created_at: dt.datetime
    updated_at: dt.datetime


# The balance is the record's own until it is linked, then its account's at that shop.
_CUSTOMER = """c.id, c.shop_id, c.name, c.phone, c.email, c.note, c.user_id, c.linked_at, c.created_at, c.updated_at,
    coalesce((SELECT la.balance FROM loyalty_accounts la
              WHERE la.shop_id = c.shop_id
                AND CASE WHEN c.user_id IS NULL THEN la.shop_customer_id = c.id ELSE la.user_id = c.user_id END),
             0) AS points"""


def _customer(row: asyncpg.Record) -> Customer:
    return Customer(**{k: row[k] for k in Customer.__slots__})  # type: ignore[attr-defined]


async def insert(
    conn: asyncpg.Connection, *, shop_id: uuid.UUID, fields: dict[str, Any], created_by: uuid.UUID
) -> uuid.UUID:
    return await conn.fetchval(
        "INSERT INTO shop_customers (shop_id, name, phone, email, note, created_by) VALUES ($1, $2, $3, $4, $5, $6) "
        "RETURNING id",
        shop_id,
        fields["name"],
        fields.get("phone"),
        fields.get("email"),
        fields.get("note"),
        created_by,
    )


async def get(
    conn: asyncpg.Connection, shop_id: uuid.UUID, customer_id: uuid.UUID, *, lock: bool = False
) -> Customer | None:
    row = await conn.fetchrow(
        f"SELECT {_CUSTOMER} FROM shop_customers c WHERE c.id = $1 AND c.shop_id = $2{' FOR UPDATE' if lock else ''}",
        customer_id,
        shop_id,
    )
    return _customer(row) if row else None


async def search(
    conn: asyncpg.Connection, *, shop_id: uuid.UUID, q: str | None, after: tuple[str, uuid.UUID] | None, limit: int
) -> list[Customer]:
    """By name (then id); `q` is the start of the name or the e-mail, or (four digits or more) digits of the
    phone number anywhere in it, as a number is said with or without its country code."""
    digits = "".join(ch for ch in q or "" if ch.isdigit())
    rows = await conn.fetch(
        f"""SELECT {_CUSTOMER} FROM shop_customers c
            WHERE c.shop_id = $1
              AND ($2::text IS NULL OR lower(c.name) LIKE $2 OR lower(c.email) LIKE $2
                   OR ($3::text <> '' AND regexp_replace(c.phone, '\\D', '', 'g') LIKE $3))
              AND ($4::text IS NULL OR (lower(c.name), c.id) > ($4, $5::uuid))
            ORDER BY lower(c.name), c.id LIMIT $6""",
        shop_id,
        None if q is None else like_prefix(q.lower()),
        f"%{digits}%" if len(digits) >= 4 else "",
        *(after if after is not None else (None, None)),
        limit + 1,
    )
    return [_customer(r) for r in rows]


async def update(conn: asyncpg.Connection, customer_id: uuid.UUID, changes: dict[str, Any]) -> None:
    await conn.execute(
        f"UPDATE shop_customers SET {assignments(list(changes), 2)}, updated_at = now() WHERE id = $1",
        customer_id,
        *changes.values(),
    )


async def link(conn: asyncpg.Connection, customer_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """The record becomes the account's, and so do its orders (those made before, naming only the record)."""
    await conn.execute(
        "UPDATE shop_customers SET user_id = $2, linked_at = now(), updated_at = now() WHERE id = $1",
        customer_id,
        user_id,
    )
    await conn.execute(
        "UPDATE orders SET customer_id = $2, updated_at = now() WHERE shop_customer_id = $1 AND customer_id IS NULL",
        customer_id,
        user_id,
    )
