"""SQL for loyalty: each customer's balance at a shop, and the ledger that explains it. Points are held by
an account or by one of the shop's customer records (`Holder`)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Holder:
    """Whose points: an account's, or a shop's record of someone without one (exactly one is set)."""

    user_id: uuid.UUID | None = None
    record_id: uuid.UUID | None = None

    @property
    def key(self) -> tuple[str, uuid.UUID]:
        """The column that names the holder in both tables, and its value."""
        if self.user_id is not None:
            return "user_id", self.user_id
        assert self.record_id is not None, "a holder is an account or a record"
        return "shop_customer_id", self.record_id


@dataclass(frozen=True, slots=True)
class Account:
    shop_id: uuid.UUID
    balance: int


@dataclass(frozen=True, slots=True)
class Move:
    id: int
    shop_id: uuid.UUID
    kind: str
    change: int
    balance_after: int
    order_id: uuid.UUID | None
    at: dt.datetime


async def change(
    conn: asyncpg.Connection, *, holder: Holder, shop_id: uuid.UUID, change: int, kind: str, order_id: uuid.UUID | None
) -> int | None:
    """Add `change` to the balance with a ledger row, in one conditional write; the new balance, or None
    (and nothing written) when it would go below zero."""
    column, key = holder.key
    await conn.execute(
        "INSERT INTO loyalty_accounts (user_id, shop_customer_id, shop_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        holder.user_id,
        holder.record_id,
        shop_id,
    )
    return await conn.fetchval(
        f"""WITH a AS (
               UPDATE loyalty_accounts SET balance = balance + $3, updated_at = now()
               WHERE {column} = $1 AND shop_id = $2 AND balance + $3 >= 0 RETURNING balance)
           INSERT INTO loyalty_moves ({column}, shop_id, kind, change, balance_after, order_id)
           SELECT $1, $2, $4, $3, balance, $5 FROM a RETURNING balance_after""",
        key,
        shop_id,
        change,
        kind,
        order_id,
    )


async def balance(conn: asyncpg.Connection, *, holder: Holder, shop_id: uuid.UUID, lock: bool = False) -> int:
    column, key = holder.key
    found = await conn.fetchval(
        f"SELECT balance FROM loyalty_accounts WHERE {column} = $1 AND shop_id = $2{' FOR UPDATE' if lock else ''}",
        key,
        shop_id,
    )
    return found or 0


async def accounts(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[Account]:
    rows = await conn.fetch(
        "SELECT shop_id, balance FROM loyalty_accounts WHERE user_id = $1 ORDER BY updated_at DESC", user_id
    )
    return [Account(**dict(r)) for r in rows]


async def moves(
    conn: asyncpg.Connection, *, holder: Holder, shop_id: uuid.UUID, before: int | None, limit: int
) -> list[Move]:
    column, key = holder.key
    rows = await conn.fetch(
        f"""SELECT id, shop_id, kind, change, balance_after, order_id, at FROM loyalty_moves
           WHERE {column} = $1 AND shop_id = $2 AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4""",
        key,
        shop_id,
        before,
        limit + 1,
    )
    return [Move(**dict(r)) for r in rows]
