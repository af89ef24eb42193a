"""SQL for malls and their shops."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.pagination import Cursor, keyset
from app.platform.sql import assignments


@dataclass(frozen=True, slots=True)
class ParkingTariff:
    free_minutes: int
    hourly_price: int
    daily_cap: int | None


@dataclass(frozen=True, slots=True)
class Mall:
    id: uuid.UUID
    name: str
    address: str | None
    timezone: str
    currency: str
    parking: ParkingTariff
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Opening hours as HH:MM on the mall's clock."""

    opens: str
    closes: str


@dataclass(frozen=True, slots=True)
class Shop:
    id: uuid.UUID
    mall_id: uuid.UUID
    name: str
    shop_type: str
    location: str | None
    floor: int | None
    hours: OpeningHours | None
    phone: str | None
    image_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


_MALL = """id, name, address, timezone, currency, parking_free_minutes, parking_hourly_price, parking_daily_cap,
           created_at, updated_at"""
_SHOP = """id, mall_id, name, shop_type, location, floor, opens_at, closes_at, phone, image_url, created_at,
           updated_at"""
# PATCH fields and their columns; a tariff is three columns.
MALL_COLUMNS = {"name": "name", "address": "address", "timezone": "timezone"}
SHOP_COLUMNS = {
    "name": "name",
    "shop_type": "shop_type",
    "location": "location",
    "floor": "floor",
    "phone": "phone",
    "image_url": "image_url",
}


def _mall(row: asyncpg.Record) -> Mall:
    return Mall(
        row["id"],
        row["name"],
        row["address"],
        row["timezone"],
        row["currency"],
        ParkingTariff(row["parking_free_minutes"], row["parking_hourly_price"], row["parking_daily_cap"]),
        row["created_at"],
        row["updated_at"],
    )


def _shop(row: asyncpg.Record) -> Shop:
    opens, closes = row["opens_at"], row["closes_at"]
    hours = OpeningHours(opens.strftime("%H:%M"), closes.strftime("%H:%M")) if opens is not None else None
    return Shop(
        row["id"],
        row["mall_id"],
        row["name"],
        row["shop_type"],
        row["location"],
        row["floor"],
        hours,
        row["phone"],
        row["image_url"],
        row["created_at"],
        row["updated_at"],
    )


async def insert_mall(
    conn: asyncpg.Connection, *, name: str, address: str | None, timezone: str, currency: str, parking: Any
) -> Mall:
    row = await conn.fetchrow(
        f"""INSERT INTO malls (name, address, timezone, currency, parking_free_minutes, parking_hourly_price,
                               parking_daily_cap)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_MALL}""",
        name,
        address,
        timezone,
        currency,
        parking.free_minutes,
        parking.hourly_price,
        parking.daily_cap,
    )
    return _mall(row)


async def get_mall(conn: asyncpg.Connection, mall_id: uuid.UUID) -> Mall | None:
    row = await conn.fetchrow(f"SELECT {_MALL} FROM malls WHERE id = $1", mall_id)
    return _mall(row) if row else None


async def list_malls(conn: asyncpg.Connection, *, after: Cursor, limit: int) -> list[Mall]:
    rows = await conn.fetch(
        f"""SELECT {_MALL} FROM malls WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1, $2))
            ORDER BY created_at, id LIMIT $3""",
        *keyset(after),
        limit + 1,
    )
    return [_mall(r) for r in rows]


async def update_mall(conn: asyncpg.Connection, mall_id: uuid.UUID, changes: dict[str, Any]) -> Mall | None:
    """Set the given columns (names from MALL_COLUMNS or the parking_* ones); None for no such mall."""
    sets = assignments(changes, 2)
    row = await conn.fetchrow(
        f"UPDATE malls SET {sets}{', ' if sets else ''}updated_at = now() WHERE id = $1 RETURNING {_MALL}",
        mall_id,
        *changes.values(),
    )
    return _mall(row) if row else None


async def delete_mall(conn: asyncpg.Connection, mall_id: uuid.UUID) -> list[uuid.UUID] | None:
    """The ids of the shops that went with it; None when there was no such mall."""
    rows = await conn.fetch(
        """WITH gone AS (DELETE FROM malls WHERE id = $1 RETURNING id)
           SELECT s.id FROM gone LEFT JOIN shops s ON s.mall_id = gone.id""",
        mall_id,
    )
    return [r["id"] for r in rows if r["id"] is not None] if rows else None


async def insert_shop(conn: asyncpg.Connection, *, mall_id: uuid.UUID, fields: dict[str, Any]) -> Shop | None:
    """The new shop; None when the mall already has a shop of that name."""
    columns = ["mall_id", *fields]
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    row = await conn.fetchrow(
        f"""INSERT INTO shops ({", ".join(columns)}) VALUES ({placeholders})
            ON CONFLICT (mall_id, name) DO NOTHING RETURNING {_SHOP}""",
        mall_id,
        *fields.values(),
    )
    return _shop(row) if row else None


async def get_shop(conn: asyncpg.Connection, shop_id: uuid.UUID) -> Shop | None:
    row = await conn.fetchrow(f"SELECT {_SHOP} FROM shops WHERE id = $1", shop_id)
    return _shop(row) if row else None


_SHOP_NAMES = [c.strip() for c in _SHOP.split(",")]
_MALL_NAMES = [c.strip() for c in _MALL.split(",")]
_SHOP_AND_MALL = ", ".join([*(f"s.{c}" for c in _SHOP_NAMES), *(f"m.{c} AS mall_{c}" for c in _MALL_NAMES)])


async def get_shop_and_mall(conn: asyncpg.Connection, shop_id: uuid.UUID) -> tuple[Shop, Mall] | None:
    """A shop and its mall in one round trip."""
    row = await conn.fetchrow(
        f"SELECT {_SHOP_AND_MALL} FROM shops s JOIN malls m ON m.id = s.mall_id WHERE s.id = $1", shop_id
    )
    return (_shop(row), _mall({c: row[f"mall_{c}"] for c in _MALL_NAMES})) if row else None  # type: ignore[arg-type]


async def list_shops(
    conn: asyncpg.Connection, *, mall_id: uuid.UUID, shop_type: str | None, after: Cursor, limit: int
) -> list[Shop]:
    rows = await conn.fetch(
        f"""SELECT {_SHOP} FROM shops
            WHERE mall_id = $1 AND ($2::text IS NULL OR shop_type = $2)
              AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4))
            ORDER BY created_at, id LIMIT $5""",
        mall_id,
        shop_type,
        *keyset(after),
        limit + 1,
    )
    return [_shop(r) for r in rows]


async def update_shop(conn: asyncpg.Connection, shop_id: uuid.UUID, changes: dict[str, Any]) -> Shop | None:
    """Set the given columns; None for no such shop. Raises UniqueViolationError for a name the mall has."""
    sets = assignments(changes, 2)
    row = await conn.fetchrow(
        f"UPDATE shops SET {sets}{', ' if sets else ''}updated_at = now() WHERE id = $1 RETURNING {_SHOP}",
        shop_id,
        *changes.values(),
    )
    return _shop(row) if row else None


async def delete_shop(conn: asyncpg.Connection, shop_id: uuid.UUID) -> bool:
    return await conn.execute("DELETE FROM shops WHERE id = $1", shop_id) != "DELETE 0"


async def mall_of_shop(conn: asyncpg.Connection, shop_id: uuid.UUID) -> uuid.UUID | None:
    return await conn.fetchval("SELECT mall_id FROM shops WHERE id = $1", shop_id)


async def mall_exists(conn: asyncpg.Connection, mall_id: uuid.UUID) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM malls WHERE id = $1)", mall_id)


async def mall_names(conn: asyncpg.Connection, mall_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await conn.fetch("SELECT id, name FROM malls WHERE id = ANY($1::uuid[])", mall_ids)
    return {r["id"]: r["name"] for r in rows}


async def shop_names(conn: asyncpg.Connection, shop_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """Each shop's id and name, with its mall's."""
    return await conn.fetch(
        """SELECT s.id, s.name, m.id AS mall_id, m.name AS mall FROM shops s JOIN malls m ON m.id = s.mall_id
           WHERE s.id = ANY($1::uuid[])""",
        shop_ids,
    )
