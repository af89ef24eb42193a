"""The audit log: who changed what, from where, in which request.

Written in the same transaction as the change it records, only through this
module: `record` for one row, `insert_cte` for a statement that writes its
change and its audit row in one round trip.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from app.platform import context

_COLUMNS = "actor_id, action, resource_type, resource_id, request_id, ip"
_INSERT = f"""
INSERT INTO audit_logs ({_COLUMNS}, details) VALUES ($1, $2, $3, $4, $5, $6::inet, $7)
"""


def insert_cte(name: str, rows: str) -> str:
    """A CTE `name` that writes the audit rows `rows` selects, as (actor_id, action, resource_type,
    resource_id text, request_id, ip inet)."""
    return f"{name} AS (INSERT INTO audit_logs ({_COLUMNS}) {rows})"


async def record(
    conn: asyncpg.Connection,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    resource_type: str,
    resource_id: Any,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one audit row for a change made by a person."""
    await conn.execute(
        _INSERT,
        actor_id,
        action,
        resource_type,
        None if resource_id is None else str(resource_id),
        context.request_id.get(),
        context.client_ip.get(),
        details,
    )
