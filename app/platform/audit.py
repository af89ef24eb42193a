"""The audit log: who changed what, from where, in which request.

Written in the same transaction as the change it records, only through this
module: `record` for one row, `insert_cte` for a statement that writes its
change and its audit row in one round trip. A row names the places the change
happened in (`where`: the scope and every scope it sits inside), so a scope's
admins can read their own place's log.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from app.platform import context
from app.platform.security.scopes import Scope

_COLUMNS = "actor_id, action, resource_type, resource_id, request_id, ip, places"
_INSERT = f"""
INSERT INTO audit_logs ({_COLUMNS}, details) VALUES ($1, $2, $3, $4, $5, $6::inet, $7, $8)
"""


def places_of(scope: Scope | None) -> list[uuid.UUID]:
    """The ids an audit row in `scope` is filed under: the scope's own and those of the scopes it sits in."""
    if scope is None:
        return []
    return [i for i in (scope.scope_id, *scope.parents.values()) if i is not None]


def insert_cte(name: str, rows: str) -> str:
    """A CTE `name` that writes the audit rows `rows` selects, as (actor_id, action, resource_type,
    resource_id text, request_id, ip inet, places uuid[])."""
    return f"{name} AS (INSERT INTO audit_logs ({_COLUMNS}) {rows})"


async def record(
    conn: asyncpg.Connection,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    resource_type: str,
    resource_id: Any,
    details: dict[str, Any] | None = None,
    where: Scope | None = None,
) -> None:
    """Add one audit row for a change made by a person, in the place `where` (None: in no place, such as
    a sign-in or a change of one's own password)."""
    await conn.execute(
        _INSERT,
        actor_id,
        action,
        resource_type,
        None if resource_id is None else str(resource_id),
        context.request_id.get(),
        context.client_ip.get(),
        places_of(where),
        details,
    )
