"""SQL for movies, showings and ticket checkouts. A checkout takes its seats in one UPDATE that only
succeeds while they fit, so two buyers of the last seats cannot both have them; a checkout that ends
(cancelled, run out, refunded) gives them back in the statement that ends it."""

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
    """Seats held for a buyer: `reserved` until `expires_at`, then `paid`, or `cancelled`/`refunded`."""

    id: uuid.UUID
    showing_id: uuid.UUID
    user_id: uuid.UUID
    tickets: int
    unit_price: int
    total: int
    currency: str
    status: str
    expires_at: dt.datetime | None
    paid_at: dt.datetime | None
    payment_method: str | None
    ended_at: dt.datetime | None
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


_CHECKOUT = f"""c.id AS checkout_id, c.user_id, c.tickets, c.unit_price, c.total, c.currency AS checkout_currency,
    c.status, c.expires_at, c.paid_at, c.payment_method, c.ended_at, c.created_at AS checkout_at, {_SHOWING}"""


def _checkout(row: asyncpg.Record) -> TicketCheckout:
    return TicketCheckout(
        row["checkout_id"],
        row["id"],
        row["user_id"],
        row["tickets"],
        row["unit_price"],
        row["total"],
        row["checkout_currency"],
        row["status"],
        row["expires_at"],
        row["paid_at"],
        row["payment_method"],
        row["ended_at"],
        row["checkout_at"],
        _showing(row),
    )


async def reserve(
    conn: asyncpg.Connection, *, showing_id: uuid.UUID, user_id: uuid.UUID, tickets: int, hold: dt.timedelta
) -> TicketCheckout | None:
    """Hold `tickets` seats for `hold` at the showing's price; None when they do not fit (or the showing
    has started, or does not exist)."""
    row = await conn.fetchrow(
        f"""WITH taken AS (
                UPDATE showings SET seats_sold = seats_sold + $3
                WHERE id = $1 AND seats_sold + $3 <= seats AND starts_at > now()
                RETURNING *),
            c AS (
                INSERT INTO ticket_checkouts (showing_id, user_id, tickets, unit_price, total, currency, expires_at)
                SELECT id, $2, $3, ticket_price, ticket_price * $3, currency, least(now() + $4::interval, starts_at)
                FROM taken RETURNING *)
            SELECT {_CHECKOUT} FROM c, taken s JOIN movies m ON m.id = s.movie_id""",
        showing_id,
        user_id,
        tickets,
        hold,
    )
    return _checkout(row) if row else None


async def checkout(conn: asyncpg.Connection, checkout_id: uuid.UUID, *, lock: bool = False) -> TicketCheckout | None:
    row = await conn.fetchrow(
        f"""SELECT {_CHECKOUT} FROM ticket_checkouts c JOIN showings s ON s.id = c.showing_id
            JOIN movies m ON m.id = s.movie_id WHERE c.id = $1{" FOR UPDATE OF c" if lock else ""}""",
        checkout_id,
    )
    return _checkout(row) if row else None


async def mark_paid(conn: asyncpg.Connection, checkout_id: uuid.UUID, *, method: str) -> None:
    await conn.execute(
        "UPDATE ticket_checkouts SET status = 'paid', paid_at = now(), payment_method = $2 WHERE id = $1",
        checkout_id,
        method,
    )


async def end(conn: asyncpg.Connection, checkout_id: uuid.UUID, *, status: str) -> None:
    """End a checkout (`cancelled` or `refunded`) and give its seats back."""
    await conn.execute(
        """WITH c AS (UPDATE ticket_checkouts SET status = $2, ended_at = now() WHERE id = $1
                      RETURNING showing_id, tickets)
           UPDATE showings s SET seats_sold = s.seats_sold - c.tickets FROM c WHERE s.id = c.showing_id""",
        checkout_id,
        status,
    )


async def expire_due(conn: asyncpg.Connection, *, most: int) -> list[TicketCheckout]:
    """Cancel up to `most` reservations whose hold ran out, giving their seats back; the rows are locked
    and skipped by another worker's sweep."""
    ids = await conn.fetch(
        """WITH due AS (SELECT id FROM ticket_checkouts WHERE status = 'reserved' AND expires_at <= now()
                        ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED),
                c AS (UPDATE ticket_checkouts t SET status = 'cancelled', ended_at = now() FROM due
                      WHERE t.id = due.id RETURNING t.id, t.showing_id, t.tickets),
                freed AS (SELECT showing_id, sum(tickets) AS tickets FROM c GROUP BY showing_id),
                s AS (UPDATE showings s SET seats_sold = s.seats_sold - freed.tickets FROM freed
                      WHERE s.id = freed.showing_id)
           SELECT id FROM c""",
        most,
    )
    rows = await conn.fetch(
        f"""SELECT {_CHECKOUT} FROM ticket_checkouts c JOIN showings s ON s.id = c.showing_id
            JOIN movies m ON m.id = s.movie_id WHERE c.id = ANY($1::uuid[])""",
        [r["id"] for r in ids],
    )
    return [_checkout(r) for r in rows]


async def checkouts_of(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, after: Cursor, limit: int
) -> list[TicketCheckout]:
    """The user's checkouts, newest first."""
    rows = await conn.fetch(
        f"""SELECT {_CHECKOUT}
            FROM ticket_checkouts c JOIN showings s ON s.id = c.showing_id JOIN movies m ON m.id = s.movie_id
            WHERE c.user_id = $1 AND ($2::timestamptz IS NULL OR (c.created_at, c.id) < ($2, $3))
            ORDER BY c.created_at DESC, c.id DESC LIMIT $4""",
        user_id,
        *keyset(after),
        limit + 1,
    )
    return [_checkout(r) for r in rows]
