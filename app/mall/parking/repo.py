"""SQL for the cars a mall knows and their visits: one open visit per car and mall, decided by a
unique index; the cost is computed by `parking_cost` (see the migration) from the mall's tariff as
the car leaves, and again when an admin corrects a visit's times."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.pagination import Cursor, keyset
from app.platform.sql import assignments


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
# The car joins the registry (or is seen again, its colour kept unless a new one is given), and the
# visit takes the registry's colour when the guard gave none.
_ENTER = f"""
WITH car AS (
    INSERT INTO cars AS c (mall_id, plate, colour, last_seen_at)
    SELECT m.id, $2, $3, now() FROM malls m WHERE m.id = $1
    ON CONFLICT (mall_id, plate) DO UPDATE SET colour = coalesce(EXCLUDED.colour, c.colour), last_seen_at = now()
    RETURNING c.mall_id, c.colour
)
INSERT INTO car_visits AS v (mall_id, plate, colour, section, entered_by, currency)
SELECT car.mall_id, $2, car.colour, $4, $5, m.currency FROM car JOIN malls m ON m.id = car.mall_id
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


async def get(conn: asyncpg.Connection, visit_id: uuid.UUID, *, lock: bool = False) -> CarVisit | None:
    """The visit; `lock` holds it until the transaction ends, for a change that reads it first."""
    row = await conn.fetchrow(f"SELECT {_V} FROM car_visits v WHERE v.id = $1{' FOR UPDATE' if lock else ''}", visit_id)
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


async def correct(
    conn: asyncpg.Connection,
    visit_id: uuid.UUID,
    *,
    plate: str,
    colour: str | None,
    section: str,
    entered_at: dt.datetime,
    exited_at: dt.datetime | None,
) -> CarVisit:
    """Write a visit's corrected fields and charge a visit that has ended again, by the tariff, for its
    corrected times. Raises UniqueViolationError when the corrected plate is inside already."""
    row = await conn.fetchrow(
        f"""UPDATE car_visits v SET plate = $2, colour = $3, section = $4, entered_at = $5, exited_at = $6,
                cost = CASE WHEN $6::timestamptz IS NOT NULL THEN parking_cost(
                    $5, $6, m.parking_free_minutes, m.parking_hourly_price, m.parking_daily_cap) END
            FROM malls m WHERE m.id = v.mall_id AND v.id = $1
            RETURNING {_V}""",
        visit_id,
        plate,
        colour,
        section,
        entered_at,
        exited_at,
    )
    assert row is not None, "the visit was found in this transaction"
    return _visit(row)


async def delete(conn: asyncpg.Connection, visit_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM car_visits WHERE id = $1", visit_id)


@dataclass(frozen=True, slots=True)
class Car:
    """A car the mall's parking knows, with the visit it is on now (None: not inside)."""

    id: uuid.UUID
    mall_id: uuid.UUID
    plate: str
    colour: str | None
    note: str | None
    inside_visit_id: uuid.UUID | None
    last_seen_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


# The columns a car's change may set.
CAR_COLUMNS = ("colour", "note")
_CAR = """c.id, c.mall_id, c.plate, c.colour, c.note,
    (SELECT v.id FROM car_visits v WHERE v.mall_id = c.mall_id AND v.plate = c.plate AND v.exited_at IS NULL)
        AS inside_visit_id,
    c.last_seen_at, c.created_at, c.updated_at"""


def _car(row: asyncpg.Record) -> Car:
    return Car(**dict(row))


async def add_car(
    conn: asyncpg.Connection, *, mall_id: uuid.UUID, plate: str, colour: str | None, note: str | None
) -> Car | None:
    """The new car; None when the mall knows the plate already."""
    row = await conn.fetchrow(
        f"""WITH c AS (INSERT INTO cars (mall_id, plate, colour, note) VALUES ($1, $2, $3, $4)
                       ON CONFLICT (mall_id, plate) DO NOTHING RETURNING *)
            SELECT {_CAR} FROM c""",
        mall_id,
        plate,
        colour,
        note,
    )
    return _car(row) if row else None


async def car(conn: asyncpg.Connection, car_id: uuid.UUID) -> Car | None:
    row = await conn.fetchrow(f"SELECT {_CAR} FROM cars c WHERE c.id = $1", car_id)
    return _car(row) if row else None


async def car_by_plate(conn: asyncpg.Connection, *, mall_id: uuid.UUID, plate: str) -> Car | None:
    row = await conn.fetchrow(f"SELECT {_CAR} FROM cars c WHERE c.mall_id = $1 AND c.plate = $2", mall_id, plate)
    return _car(row) if row else None


async def know_plate(conn: asyncpg.Connection, *, mall_id: uuid.UUID, plate: str) -> None:
    """Add a plate to the registry unless it is there (a visit corrected to name it)."""
    await conn.execute(
        "INSERT INTO cars (mall_id, plate) VALUES ($1, $2) ON CONFLICT (mall_id, plate) DO NOTHING", mall_id, plate
    )


async def list_cars(
    conn: asyncpg.Connection, *, mall_id: uuid.UUID, plate_prefix: str | None, after: str | None, limit: int
) -> list[Car]:
    """By plate; `plate_prefix` finds the plates that start with it."""
    rows = await conn.fetch(
        f"""SELECT {_CAR} FROM cars c
            WHERE c.mall_id = $1 AND ($2::text IS NULL OR c.plate LIKE $2 || '%')
              AND ($3::text IS NULL OR c.plate > $3)
            ORDER BY c.plate LIMIT $4""",
        mall_id,
        plate_prefix,
        after,
        limit + 1,
    )
    return [_car(r) for r in rows]


async def change_car(conn: asyncpg.Connection, car_id: uuid.UUID, changes: dict[str, Any]) -> Car:
    sets = assignments(changes, 2)
    row = await conn.fetchrow(
        f"""WITH c AS (UPDATE cars SET {sets}{", " if sets else ""}updated_at = now() WHERE id = $1 RETURNING *)
            SELECT {_CAR} FROM c""",
        car_id,
        *changes.values(),
    )
    assert row is not None, "the car was found in this transaction"
    return _car(row)


async def remove_car(conn: asyncpg.Connection, car_id: uuid.UUID) -> bool:
    """Forget a car that is not inside; False while it is (its visits stay, named by plate)."""
    status = await conn.execute(
        """DELETE FROM cars c WHERE c.id = $1 AND NOT EXISTS (
               SELECT 1 FROM car_visits v WHERE v.mall_id = c.mall_id AND v.plate = c.plate AND v.exited_at IS NULL)""",
        car_id,
    )
    return status != "DELETE 0"
