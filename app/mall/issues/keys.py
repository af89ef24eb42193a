"""A mall's API keys for camera-detection scripts: made by the mall's admins, shown once, kept only as a
hash, scoped to one mall, revocable; each use is noted."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

PREFIX = "ghk_"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: uuid.UUID
    mall_id: uuid.UUID
    name: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """The key itself appears here, once."""

    id: uuid.UUID
    mall_id: uuid.UUID
    name: str
    key: str
    prefix: str
    created_at: dt.datetime


_KEY = "id, mall_id, name, prefix, created_at, revoked_at, last_used_at"


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create(conn: asyncpg.Connection, *, mall_id: uuid.UUID, name: str, by: uuid.UUID) -> NewApiKey:
    key = PREFIX + secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        """INSERT INTO mall_api_keys (mall_id, name, key_hash, prefix, created_by) VALUES ($1, $2, $3, $4, $5)
           RETURNING id, created_at""",
        mall_id,
        name,
        _hash(key),
        key[:12],
        by,
    )
    return NewApiKey(row["id"], mall_id, name, key, key[:12], row["created_at"])


async def list_for(conn: asyncpg.Connection, mall_id: uuid.UUID) -> list[ApiKey]:
    rows = await conn.fetch(f"SELECT {_KEY} FROM mall_api_keys WHERE mall_id = $1 ORDER BY created_at, id", mall_id)
    return [ApiKey(**dict(r)) for r in rows]


async def revoke(conn: asyncpg.Connection, *, mall_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    status = await conn.execute(
        "UPDATE mall_api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND mall_id = $2",
        key_id,
        mall_id,
    )
    return status != "UPDATE 0"


async def use(conn: asyncpg.Connection, key: str) -> ApiKey | None:
    """The live key this is, marked as used now; None for a wrong or revoked one."""
    if not key.startswith(PREFIX) or len(key) > 100:
        return None
    row = await conn.fetchrow(
        f"""UPDATE mall_api_keys SET last_used_at = now() WHERE key_hash = $1 AND revoked_at IS NULL
            RETURNING {_KEY}""",
        _hash(key),
    )
    return ApiKey(**dict(row)) if row else None
