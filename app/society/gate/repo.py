"""SQL for gate devices and guards' PINs."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class GateDevice:
    id: uuid.UUID
    society_id: uuid.UUID
    name: str
    gate: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


_DEVICE = "id, society_id, name, gate, created_at, revoked_at"


async def insert_device(
    conn: asyncpg.Connection,
    *,
    society_id: uuid.UUID,
    name: str,
    gate: str | None,
    secret_hash: bytes,
    created_by: uuid.UUID,
) -> GateDevice:
    row = await conn.fetchrow(
        f"""INSERT INTO gate_devices (society_id, name, gate, secret_hash, created_by) VALUES ($1, $2, $3, $4, $5)
            RETURNING {_DEVICE}""",
        society_id,
        name,
        gate,
        secret_hash,
        created_by,
    )
    return GateDevice(**dict(row))


async def devices_of(conn: asyncpg.Connection, society_id: uuid.UUID) -> list[GateDevice]:
    rows = await conn.fetch(
        f"SELECT {_DEVICE} FROM gate_devices WHERE society_id = $1 ORDER BY created_at, id", society_id
    )
    return [GateDevice(**dict(r)) for r in rows]


async def get_device(conn: asyncpg.Connection, device_id: uuid.UUID) -> GateDevice | None:
    row = await conn.fetchrow(f"SELECT {_DEVICE} FROM gate_devices WHERE id = $1", device_id)
    return GateDevice(**dict(row)) if row else None


async def live_device(conn: asyncpg.Connection, device_id: uuid.UUID, secret_hash: bytes) -> GateDevice | None:
    """The device, if `secret_hash` is its own and it is not revoked."""
    row = await conn.fetchrow(
        f"SELECT {_DEVICE} FROM gate_devices WHERE id = $1 AND secret_hash = $2 AND revoked_at IS NULL",
        device_id,
        secret_hash,
    )
    return GateDevice(**dict(row)) if row else None


async def revoke_device(conn: asyncpg.Connection, device_id: uuid.UUID) -> None:
    await conn.execute("UPDATE gate_devices SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1", device_id)


async def set_pin(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, society_id: uuid.UUID, pin_hash: str, set_by: uuid.UUID
) -> None:
    await conn.execute(
        """INSERT INTO guard_pins (user_id, society_id, pin_hash, set_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id, society_id) DO UPDATE SET pin_hash = $3, set_by = $4, set_at = now()""",
        user_id,
        society_id,
        pin_hash,
        set_by,
    )


async def pin_of(conn: asyncpg.Connection, *, user_id: uuid.UUID, society_id: uuid.UUID) -> str | None:
    return await conn.fetchval(
        "SELECT pin_hash FROM guard_pins WHERE user_id = $1 AND society_id = $2", user_id, society_id
    )


async def with_pins(conn: asyncpg.Connection, society_id: uuid.UUID, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these guards have a PIN at this society."""
    rows = await conn.fetch(
        "SELECT user_id FROM guard_pins WHERE society_id = $1 AND user_id = ANY($2::uuid[])", society_id, user_ids
    )
    return {r["user_id"] for r in rows}


async def posts(conn: asyncpg.Connection, society_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """The gate each guard of the society works at, of those who have one."""
    rows = await conn.fetch("SELECT user_id, gate FROM guard_posts WHERE society_id = $1", society_id)
    return {r["user_id"]: r["gate"] for r in rows}


async def posts_of(conn: asyncpg.Connection, user_id: uuid.UUID, society_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The gate one guard works at in each of these societies, of those that post them at one."""
    rows = await conn.fetch(
        "SELECT society_id, gate FROM guard_posts WHERE user_id = $1 AND society_id = ANY($2::uuid[])",
        user_id,
        society_ids,
    )
    return {r["society_id"]: r["gate"] for r in rows}


async def set_post(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, society_id: uuid.UUID, gate: str | None, set_by: uuid.UUID
) -> None:
    """Post a guard at a gate (None: at none in particular)."""
    if gate is None:
        await conn.execute("DELETE FROM guard_posts WHERE user_id = $1 AND society_id = $2", user_id, society_id)
        return
    await conn.execute(
        """INSERT INTO guard_posts (user_id, society_id, gate, set_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id, society_id) DO UPDATE SET gate = $3, set_by = $4, set_at = now()""",
        user_id,
        society_id,
        gate,
        set_by,
    )
