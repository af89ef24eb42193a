"""SQL for societies, complexes, blocks and flats."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.platform.pagination import Cursor, keyset


@dataclass(frozen=True, slots=True)
class Society:
    id: uuid.UUID
    name: str
    city: str
    address: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Complex:
    id: uuid.UUID
    society_id: uuid.UUID
    name: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Block:
    id: uuid.UUID
    complex_id: uuid.UUID
    society_id: uuid.UUID
    name: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Flat:
    id: uuid.UUID
    block_id: uuid.UUID
    society_id: uuid.UUID
    flat_number: str
    floor: int | None
    created_at: dt.datetime


async def list_cities(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch("SELECT DISTINCT ON (lower(city)) city FROM societies ORDER BY lower(city), city")
    return [r["city"] for r in rows]


async def list_societies(conn: asyncpg.Connection, *, city: str | None, after: Cursor, limit: int) -> list[Society]:
    rows = await conn.fetch(
        """SELECT id, name, city, address, created_at FROM societies
           WHERE ($1::text IS NULL OR lower(city) = lower($1))
             AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
           ORDER BY created_at, id LIMIT $4""",
        city,
        *keyset(after),
        limit + 1,
    )
    return [Society(**dict(r)) for r in rows]


async def insert_society(conn: asyncpg.Connection, *, name: str, city: str, address: str | None) -> Society:
    row = await conn.fetchrow(
        "INSERT INTO societies (name, city, address) VALUES ($1, $2, $3) RETURNING id, name, city, address, created_at",
        name,
        city,
        address,
    )
    return Society(**dict(row))


async def list_complexes(
    conn: asyncpg.Connection, *, society_id: uuid.UUID, after: Cursor, limit: int
) -> list[Complex]:
    rows = await conn.fetch(
        """SELECT id, society_id, name, created_at FROM complexes
           WHERE society_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
           ORDER BY created_at, id LIMIT $4""",
        society_id,
        *keyset(after),
        limit + 1,
    )
    return [Complex(**dict(r)) for r in rows]


async def insert_complex(conn: asyncpg.Connection, *, society_id: uuid.UUID, name: str) -> Complex | None:
    """The new complex; None if the society already has one of this name."""
    row = await conn.fetchrow(
        """INSERT INTO complexes (society_id, name) VALUES ($1, $2)
           ON CONFLICT (society_id, name) DO NOTHING RETURNING id, society_id, name, created_at""",
        society_id,
        name,
    )
    return Complex(**dict(row)) if row else None


async def get_complex(conn: asyncpg.Connection, complex_id: uuid.UUID) -> Complex | None:
    row = await conn.fetchrow("SELECT id, society_id, name, created_at FROM complexes WHERE id = $1", complex_id)
    return Complex(**dict(row)) if row else None


async def list_blocks(conn: asyncpg.Connection, *, complex_id: uuid.UUID, after: Cursor, limit: int) -> list[Block]:
    rows = await conn.fetch(
        """SELECT id, complex_id, society_id, name, created_at FROM blocks
           WHERE complex_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
           ORDER BY created_at, id LIMIT $4""",
        complex_id,
        *keyset(after),
        limit + 1,
    )
    return [Block(**dict(r)) for r in rows]


async def insert_block(
    conn: asyncpg.Connection, *, complex_id: uuid.UUID, society_id: uuid.UUID, name: str
) -> Block | None:
    row = await conn.fetchrow(
        """INSERT INTO blocks (complex_id, society_id, name) VALUES ($1, $2, $3)
           ON CONFLICT (complex_id, name) DO NOTHING RETURNING id, complex_id, society_id, name, created_at""",
        complex_id,
        society_id,
        name,
    )
    return Block(**dict(row)) if row else None


async def get_block(conn: asyncpg.Connection, block_id: uuid.UUID) -> Block | None:
    row = await conn.fetchrow("SELECT id, complex_id, society_id, name, created_at FROM blocks WHERE id = $1", block_id)
    return Block(**dict(row)) if row else None


async def list_flats(conn: asyncpg.Connection, *, block_id: uuid.UUID, after: Cursor, limit: int) -> list[Flat]:
    rows = await conn.fetch(
        """SELECT id, block_id, society_id, flat_number, floor, created_at FROM flats
           WHERE block_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3))
           ORDER BY created_at, id LIMIT $4""",
        block_id,
        *keyset(after),
        limit + 1,
    )
    return [Flat(**dict(r)) for r in rows]


async def insert_flat(
    conn: asyncpg.Connection, *, block_id: uuid.UUID, society_id: uuid.UUID, flat_number: str, floor: int | None
) -> Flat | None:
    row = await conn.fetchrow(
        """INSERT INTO flats (block_id, society_id, flat_number, floor) VALUES ($1, $2, $3, $4)
           ON CONFLICT (block_id, flat_number) DO NOTHING
           RETURNING id, block_id, society_id, flat_number, floor, created_at""",
        block_id,
        society_id,
        flat_number,
        floor,
    )
    return Flat(**dict(row)) if row else None


async def society_exists(conn: asyncpg.Connection, society_id: uuid.UUID) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM societies WHERE id = $1)", society_id)


async def society_of_flat(conn: asyncpg.Connection, flat_id: uuid.UUID) -> uuid.UUID | None:
    return await conn.fetchval("SELECT society_id FROM flats WHERE id = $1", flat_id)


@dataclass(frozen=True, slots=True)
class FlatDetail:
    """A flat with the names of the block, complex and society it is in."""

    id: uuid.UUID
    flat_number: str
    floor: int | None
    block_id: uuid.UUID
    block: str
    complex_id: uuid.UUID
    complex: str
    society_id: uuid.UUID
    society: str
    created_at: dt.datetime


async def flat_details(conn: asyncpg.Connection, flat_ids: list[uuid.UUID]) -> list[FlatDetail]:
    rows = await conn.fetch(
        """SELECT f.id, f.flat_number, f.floor, b.id AS block_id, b.name AS block, c.id AS complex_id,
                  c.name AS complex, s.id AS society_id, s.name AS society, f.created_at
           FROM flats f JOIN blocks b ON b.id = f.block_id JOIN complexes c ON c.id = b.complex_id
           JOIN societies s ON s.id = f.society_id
           WHERE f.id = ANY($1::uuid[])""",
        flat_ids,
    )
    return [FlatDetail(**dict(r)) for r in rows]


async def society_names(conn: asyncpg.Connection, society_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await conn.fetch("SELECT id, name FROM societies WHERE id = ANY($1::uuid[])", society_ids)
    return {r["id"]: r["name"] for r in rows}
