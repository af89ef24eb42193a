"""SQL for the commerce configuration: the global row and the shops' overrides."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.sql import assignments

# What the configuration holds; a shop's row overrides each value it sets.
COLUMNS = (
    "tax_rate_bp",
    "loyalty_earn_bp",
    "loyalty_redeem_max_bp",
    "loyalty_enabled",
    "online_payments_enabled",
    "pre_orders_enabled",
)


@dataclass(frozen=True, slots=True)
class Settings:
    """What applies at a shop (or everywhere, without one). Rates are basis points (500 is 5 %): the tax on
    what an order costs, the share of a paid order that comes back as loyalty points, and the most of an
    order points may pay for. Flags switch loyalty points, online payment, and customers' orders while the
    shop is closed."""

    shop_id: uuid.UUID | None
    tax_rate_bp: int
    loyalty_earn_bp: int
    loyalty_redeem_max_bp: int
    loyalty_enabled: bool
    online_payments_enabled: bool
    pre_orders_enabled: bool


async def effective(conn: asyncpg.Connection, shop_id: uuid.UUID | None) -> Settings:
    merged = ", ".join(f"coalesce(s.{c}, g.{c}) AS {c}" for c in COLUMNS)
    row = await conn.fetchrow(
        f"""SELECT {merged} FROM commerce_config g LEFT JOIN commerce_config s ON s.shop_id = $1
            WHERE g.shop_id IS NULL""",
        shop_id,
    )
    return Settings(shop_id, **dict(row))


async def set_global(conn: asyncpg.Connection, *, changes: dict[str, Any], by: uuid.UUID) -> None:
    sets = assignments(changes, 2)
    await conn.execute(
        f"UPDATE commerce_config SET {sets}, updated_by = $1, updated_at = now() WHERE shop_id IS NULL",
        by,
        *changes.values(),
    )


async def set_for_shop(conn: asyncpg.Connection, *, shop_id: uuid.UUID, changes: dict[str, Any], by: uuid.UUID) -> None:
    """A shop's overrides (a None value: the global one applies again)."""
    await conn.execute(
        "INSERT INTO commerce_config (shop_id, updated_by) VALUES ($1, $2) ON CONFLICT (shop_id) DO NOTHING",
        shop_id,
        by,
    )
    sets = assignments(changes, 3)
    await conn.execute(
        f"UPDATE commerce_config SET {sets}, updated_by = $2, updated_at = now() WHERE shop_id = $1",
        shop_id,
        by,
        *changes.values(),
    )
