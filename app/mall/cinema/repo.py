"""SQL for movies, showings and ticket checkouts. A purchase takes its seats in one UPDATE that only
succeeds while they fit, so two buyers of the last seats cannot both have them."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform.pagination import Cursor, keyset
from app.platform.sql import assignments


@dataclass(frozen=True, slots=True)
class Movie:
    id: uuid.UUID
    mall_id: uuid.UUID
    name: str
    duration_minutes: int
    release_date: dt.date | None
    description: str | None
    genre: str | None
    ticket_price: int
    image_url: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Showing:
    id: uuid.UUID
    mall_id: uuid.UUID
    cinema_id: uuid.UUID
    movie_id: uuid.UUID
    movie_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    seats: int
    seats_left: int
    ticket_price: int
    currency: str


@dataclass(frozen=True, slots=True)
class TicketCheckout:
    id: uuid.UUID
    showing_id: uuid.UUID
    user_id: uuid.UUID
    tickets: int
    unit_price: int
    total: int
    currency: str
    created_at: dt.datetime
    showing: Showing


_MOVIE = "id, mall_id, name, duration_minutes, release_date, description, genre, ticket_price, image_url, created_at"
_SHOWING = """s.id, s.mall_id, s.cinema_id, s.movie_id, m.name AS movie_name, s.starts_at,
    s.starts_at + make_interval(mins => m.duration_minutes) AS ends_at, s.seats, s.seats - s.seats_sold AS seats_left,
    s.ticket_price, s.currency"""


def _showing(row: asyncpg.Record) -> Showing:
    return Showing(**{k: row[k] for k in Showing.__slots__})  # type: ignore[attr-defined]


async def insert_movie(conn: asyncpg.Connection, **fields: object) -> Movie | None:
    """The new movie; None when the mall already has one of that name."""
    columns = list(fields)
    row = await conn.fetchrow(
        f"""INSERT INTO movies ({", ".join(columns)}) VALUES ({", ".join(f"${i}" for i in range(1, len(columns) + 1))})
            ON CONFLICT (mall_id, name) DO NOTHING RETURNING {_MOVIE}""",
        *fields.values(),
    )
    return Movie(**dict(row)) if row else None


async def get_movie(conn: asyncpg.Connection, movie_id: uuid.UUID) -> Movie | None:
    row = await conn.fetchrow(f"SELECT {_MOVIE} FROM movies WHERE id = $1", movie_id)
    return Movie(**dict(row)) if row else None


async def list_movies(conn: asyncpg.Connection, *, mall_id: uuid.UUID, after: Cursor, limit: int) -> list[Movie]:
    rows = await conn.fetch(
        f"""SELECT {_MOVIE} FROM movies WHERE mall_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
            ORDER BY created_at, id LIMIT $4""",
        mall_id,
        *keyset(after),
        limit + 1,
    )
    return [Movie(**dict(r)) for r in rows]


MOVIE_COLUMNS = ("name", "duration_minutes", "release_date", "description", "genre", "ticket_price", "image_url")


async def update_movie(conn: asyncpg.Connection, movie_id: uuid.UUID, changes: dict[str, Any]) -> Movie | None:
    """Set the given columns (from MOVIE_COLUMNS); None for no such movie. Raises UniqueViolationError for
    a name the mall has."""
    if not changes:
        return await get_movie(conn, movie_id)
    sets = assignments(changes, 2)
    row = await conn.fetchrow(f"UPDATE movies SET {sets} WHERE id = $1 RETURNING {_MOVIE}", movie_id, *changes.values())
    return Movie(**dict(row)) if row else None


async def delete_movie(conn: asyncpg.Connection, movie_id: uuid.UUID) -> bool:
    return await conn.execute("DELETE FROM movies WHERE id = $1", movie_id) != "DELETE 0"


async def insert_showing(
    conn: asyncpg.Connection,
    *,
    mall_id: uuid.UUID,
    cinema_id: uuid.UUID,
    movie: Movie,
    starts_at: dt.datetime,
    seats: int,
    currency: str,
) -> Showing | None:
    """The new showing, at the movie's ticket price; None when the cinema has one starting then."""
    row = await conn.fetchrow(
        f"""WITH s AS (
                INSERT INTO showings (mall_id, cinema_id, movie_id, starts_at, seats, ticket_price, currency)
                VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (cinema_id, starts_at) DO NOTHING RETURNING *)
            SELECT {_SHOWING} FROM s JOIN movies m ON m.id = s.movie_id""",
        mall_id,
        cinema_id,
        movie.id,
        starts_at,
        seats,
        movie.ticket_price,
        currency,
    )
    return _showing(row) if row else None


async def get_showing(conn: asyncpg.Connection, showing_id: uuid.UUID) -> Showing | None:
    row = await conn.fetchrow(
        f"SELECT {_SHOWING} FROM showings s JOIN movies m ON m.id = s.movie_id WHERE s.id = $1", showing_id
    )
    return _showing(row) if row else None


async def showings_between(
    conn: asyncpg.Connection, *, mall_id: uuid.UUID, cinema_id: uuid.UUID | None, start: dt.datetime, end: dt.datetime
) -> list[Showing]:
    rows = await conn.fetch(
        f"""SELECT {_SHOWING} FROM showings s JOIN movies m ON m.id = s.movie_id
            WHERE s.mall_id = $1 AND ($2::uuid IS NULL OR s.cinema_id = $2) AND s.starts_at >= $3 AND s.starts_at < $4
            ORDER BY s.starts_at, s.id""",
        mall_id,
        cinema_id,
        start,
        end,
    )
    return [_showing(r) for r in rows]


async def update_showing(
    conn: asyncpg.Connection, showing_id: uuid.UUID, *, starts_at: dt.datetime | None, seats: int | None
) -> Showing | None:
    """Move a showing or change its seats (what is None stays); None for no such showing. Raises
    CheckViolationError for fewer seats than are sold, UniqueViolationError for a start the cinema has."""
    row = await conn.fetchrow(
        f"""WITH s AS (
                UPDATE showings SET starts_at = coalesce($2, starts_at), seats = coalesce($3, seats)
                WHERE id = $1 RETURNING *)
            SELECT {_SHOWING} FROM s JOIN movies m ON m.id = s.movie_id""",
        showing_id,
        starts_at,
        seats,
    )
    return _showing(row) if row else None


async def delete_showing(conn: asyncpg.Connection, showing_id: uuid.UUID) -> bool:
    return await conn.execute("DELETE FROM showings WHERE id = $1", showing_id) != "DELETE 0"


async def buy(
    conn: asyncpg.Connection, *, showing_id: uuid.UUID, user_id: uuid.UUID, tickets: int
) -> TicketCheckout | None:
    """Take `tickets` seats and record the purchase at the showing's price; None when they do not fit
    (or the showing has started, or does not exist)."""
    row = await conn.fetchrow(
        f"""WITH taken AS (
                UPDATE showings SET seats_sold = seats_sold + $3
                WHERE id = $1 AND seats_sold + $3 <= seats AND starts_at > now()
                RETURNING *),
            c AS (
                INSERT INTO ticket_checkouts (showing_id, user_id, tickets, unit_price, total, currency)
                SELECT id, $2, $3, ticket_price, ticket_price * $3, currency FROM taken
                RETURNING id AS checkout_id, tickets, unit_price, total, currency AS checkout_currency,
                          created_at AS checkout_at)
            SELECT c.*, {_SHOWING} FROM c, taken s JOIN movies m ON m.id = s.movie_id""",
        showing_id,
        user_id,
        tickets,
    )
    if row is None:
        return None
    return TicketCheckout(
        row["checkout_id"],
        showing_id,
        user_id,
        row["tickets"],
        row["unit_price"],
        row["total"],
        row["checkout_currency"],
        row["checkout_at"],
        _showing(row),
    )


async def checkouts_of(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, after: Cursor, limit: int
) -> list[TicketCheckout]:
    """The user's purchases, newest first."""
    rows = await conn.fetch(
        f"""SELECT c.id AS checkout_id, c.tickets, c.unit_price, c.total, c.currency AS checkout_currency,
                   c.created_at AS checkout_at, {_SHOWING}
            FROM ticket_checkouts c JOIN showings s ON s.id = c.showing_id JOIN movies m ON m.id = s.movie_id
            WHERE c.user_id = $1 AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2, $3))
            ORDER BY c.created_at DESC, c.id DESC LIMIT $4""",
        user_id,
        *keyset(after),
        limit + 1,
    )
    return [
        TicketCheckout(
            r["checkout_id"],
            r["id"],
            user_id,
            r["tickets"],
            r["unit_price"],
            r["total"],
            r["checkout_currency"],
            r["checkout_at"],
            _showing(r),
        )
        for r in rows
    ]
