"""SQL for the record of stored images: who sent each first, and when."""

from __future__ import annotations

import uuid

import asyncpg


async def record(conn: asyncpg.Connection, *, name: str, content_type: str, size: int, by: uuid.UUID) -> None:
    await conn.execute(
        """INSERT INTO media (name, content_type, bytes, uploaded_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (name) DO NOTHING""",
        name,
        content_type,
        size,
        by,
    )
