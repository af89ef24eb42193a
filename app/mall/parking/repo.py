"""SQL for car visits: one open visit per car and mall, decided by a unique index; the cost is
computed by `parking_cost` (see the migration) from the mall's tariff as the car leaves."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.platform.pagination import Cursor, keyset


@dataclass(frozen=True, slots=True)
class CarVisit:
    id: uuid.UUID
    mall_id: uuid.UUID
    plate: str
    colour: str | None
    section: str
    entered_at: dt.datetime
    entered_by: uuid.UUID | None
    exited_at: dt.datetime | None
    exited_by: uuid.UUID | None
    cost: int | None
    currency: str


_V = """v.id, v.mall_id, v.plate, v.colour, v.section, v.entered_at, v.entered_by, v.exited_at, v.exited_by,
        v.cost, v.currency"""
_ENTER = f"""
INSERT INTO car_visits AS v (mall_id, plate, colour, section, entered_by, currency)
SELECT m.id, $2, $3, $4, $5, m.currency FROM malls m WHERE m.id = $1
ON CONFLICT (mall_id, plate) WHERE exited_at IS NULL DO NOTHING
RETURNING {_V}
"""
_EXIT = f"""
UPDATE car_visits v SET exited_at = now(), exited_by = $2,
    cost = parking_cost(v.entered_at, now(), m.parking_free_minutes, m.parking_hourly_price, m.parking_daily_cap)
FROM malls m
WHERE m.id = v.mall_id AND v.exited_at IS NULL AND {{which}}
RETURNING {_V}
"""


def _visit(row: asyncpg.Record) -> CarVisit:
    return CarVisit(**dict(row))


async def enter(
    conn: asyncpg.Connection,
    *,
    mall_id: uuid.UUID,
    plate: str,
    colour: str | None,
    section: str,
    by: uuid.UUID,
) -> CarVisit | None:
    """The new visit; None when the car is already inside (or there is no such mall)."""
    row = await conn.fetchrow(_ENTER, mall_id, plate, colour, section, by)
    return _visit(row) if row else None


async def open_visit(conn: asyncpg.Connection, *, mall_id: uuid.UUID, plate: str) -> CarVisit | None:
    row = await conn.fetchrow(
        f"SELECT {_V} FROM car_visits v WHERE v.mall_id = $1 AND v.plate = $2 AND v.exited_at IS NULL", mall_id, plate
    )
    return _visit(row) if row else None


async def get(conn: asyncpg.Connection, visit_id: uuid.UUID) -> CarVisit | None:
    row = await conn.fetchrow(f"SELECT {_V} FROM car_visits v WHERE v.id = $1", visit_id)
    return _visit(row) if row else None


async def exit_by_id(
    conn: asyncpg.Connection, *, visit_id: uuid.UUID, malls: list[uuid.UUID] | None, by: uuid.UUID
) -> CarVisit | None:
    """Close the open visit if it is in one of `malls` (None: any); None otherwise."""
    row = await conn.fetchrow(
        _EXIT.format(which="v.id = $1 AND ($3::uuid[] IS NULL OR v.mall_id = ANY($3::uuid[]))"), visit_id, by, malls
    )
    return _visit(row) if row else None


async def exit_by_plate(conn: asyncpg.Connection, *, mall_id: uuid.UUID, plate: str, by: uuid.UUID) -> CarVisit | None:
    row = await conn.fetchrow(_EXIT.format(which="v.mall_id = $1 AND v.plate = $3"), mall_id, by, plate)
    return _visit(row) if row else None


async def list_visits(
    conn: asyncpg.Connection,
    *,
    mall_id: uuid.UUID,
    plate: str | None,
    inside: bool | None,
    section: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    after: Cursor,
    limit: int,
) -> list[CarVisit]:
    """Newest entry first."""
    rows = await conn.fetch(
        f"""SELECT {_V} FROM car_visits v
            WHERE v.mall_id = $1
              AND ($2::text IS NULL OR v.plate = $2)
              AND ($3::boolean IS NULL OR (v.exited_at IS NULL) = $3)
              AND ($4::text IS NULL OR v.section = $4)
              AND ($5::timestamptz IS NULL OR v.entered_at >= $5)
              AND ($6::timestamptz IS NULL OR v.entered_at < $6)
              AND ($7::timestamptz IS NULL OR (v.entered_at, v.id) < ($7, $8))
            ORDER BY v.entered_at DESC, v.id DESC LIMIT $9""",
        mall_id,
        plate,
        inside,
        section,
        since,
        until,
        *keyset(after),
        limit + 1,
    )
    return [_visit(r) for r in rows]


async def inside_by_section(conn: asyncpg.Connection, mall_id: uuid.UUID) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT section, count(*) AS cars FROM car_visits WHERE mall_id = $1 AND exited_at IS NULL GROUP BY section",
        mall_id,
    )
    return {r["section"]: r["cars"] for r in sorted(rows, key=lambda r: r["section"])}


@dataclass(frozen=True, slots=True)
class ParkingDay:
    """A day of a mall's parking on its own clock: cars inside now, entries and exits that day, what
    the cars that left paid (minor units of `currency`)."""

    mall_id: uuid.UUID
    date: dt.date
    inside_now: int
    entries: int
    exits: int
    revenue: int
    currency: str


async def day(conn: asyncpg.Connection, *, mall_id: uuid.UUID, start: dt.datetime, end: dt.datetime) -> dict:
    row = await conn.fetchrow(
        """SELECT count(*) FILTER (WHERE exited_at IS NULL) AS inside_now,
                  count(*) FILTER (WHERE entered_at >= $2 AND entered_at < $3) AS entries,
                  count(*) FILTER (WHERE exited_at >= $2 AND exited_at < $3) AS exits,
                  coalesce(sum(cost) FILTER (WHERE exited_at >= $2 AND exited_at < $3), 0)::bigint AS revenue
           FROM car_visits WHERE mall_id = $1 AND (exited_at IS NULL OR exited_at >= $2 OR entered_at >= $2)""",
        mall_id,
        start,
        end,
    )
    return dict(row)
