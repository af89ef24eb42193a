"""SQL for the commerce configuration: the global row and the shops' overrides."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Settings:
    """What applies at a shop (or everywhere, without one): each value from the shop's row when it sets it,
    else from the global one."""

    shop_id: uuid.UUID | None
    tax_rate_bp: int


async def effective(conn: asyncpg.Connection, shop_id: uuid.UUID | None) -> Settings:
    row = await conn.fetchrow(
        """SELECT coalesce(s.tax_rate_bp, g.tax_rate_bp, 0) AS tax_rate_bp
           FROM commerce_config g LEFT JOIN commerce_config s ON s.shop_id = $1
           WHERE g.shop_id IS NULL""",
        shop_id,
    )
    return Settings(shop_id, row["tax_rate_bp"])


async def set_global(conn: asyncpg.Connection, *, tax_rate_bp: int, by: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE commerce_config SET tax_rate_bp = $1, updated_by = $2, updated_at = now() WHERE shop_id IS NULL",
        tax_rate_bp,
        by,
    )


async def set_for_shop(conn: asyncpg.Connection, *, shop_id: uuid.UUID, tax_rate_bp: int | None, by: uuid.UUID) -> None:
    """A shop's override (None: the global value applies again)."""
    await conn.execute(
        """INSERT INTO commerce_config (shop_id, tax_rate_bp, updated_by) VALUES ($1, $2, $3)
           ON CONFLICT (shop_id) DO UPDATE
               SET tax_rate_bp = excluded.tax_rate_bp, updated_by = excluded.updated_by, updated_at = now()""",
        shop_id,
        tax_rate_bp,
        by,
    )
