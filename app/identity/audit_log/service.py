"""The audit log for admins: who did what to what, from where and when; sign-ins (and failed ones, with
the method and why), password changes, role grants and revocations, and every admin edit are among it.
Admins read all of it; the rows name no scope, so scope admins have their people's lists instead."""

from __future__ import annotations

from typing import Any

from app.identity.audit_log import repo
from app.identity.audit_log.schemas import AuditQuery
from app.platform.http import Unprocessable
from app.platform.pagination import decode_position, encode_position
from app.platform.security.permissions import Principal, require_admin
from app.platform.state import AppState


async def read(ctx: AppState, *, actor: Principal, q: AuditQuery) -> dict[str, Any]:
    require_admin(actor)
    if q.from_ is not None and q.to is not None and q.to <= q.from_:
        raise Unprocessable(
            "`to` must be after `from`.",
            code="invalid_range",
            details=[{"field": "to", "message": "must be after from", "type": "invalid_range"}],
        )
    before = decode_position(q.cursor, int)
    async with ctx.db.connection() as conn:
        found = await repo.entries(
            conn,
            actor_id=q.actor_id,
            action=q.action,
            resource_type=q.resource_type,
            resource_id=q.resource_id,
            since=q.from_,
            until=q.to,
            before=before[0] if before else None,
            limit=q.limit,
        )
    shown = found[: q.limit]
    return {"items": shown, "next_cursor": encode_position(shown[-1].id) if len(found) > q.limit else None}
