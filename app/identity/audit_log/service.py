"""The audit log: who did what to what, from where and when; sign-ins (and failed ones, with the method
and why), password changes, role grants and revocations, and every admin edit are among it. Admins read all
of it; a place's admins (a society's, a mall's, a shop's managers) read what was filed under their place,
which takes in the places inside it (a society's flats, a mall's shops). Sign-ins and changes to one's own
account belong to no place, but for a guard's PIN sign-in at a society's gate device."""

from __future__ import annotations

from typing import Any

from app.identity import service as identity
from app.identity.audit_log import repo
from app.identity.audit_log.schemas import AuditQuery
from app.platform.http import Unprocessable
from app.platform.pagination import decode_position, encode_position
from app.platform.security.permissions import Principal, require_admin
from app.platform.state import AppState


async def read(ctx: AppState, *, actor: Principal, q: AuditQuery) -> dict[str, Any]:
    if (q.scope_type is None) != (q.scope_id is None):
        raise Unprocessable(
            "`scope_type` and `scope_id` go together.",
            code="invalid_scope",
            details=[{"field": "scope_id", "message": "give both or neither", "type": "invalid_scope"}],
        )
    if q.scope_type is None:
        require_admin(actor)
    if q.from_ is not None and q.to is not None and q.to <= q.from_:
        raise Unprocessable(
            "`to` must be after `from`.",
            code="invalid_range",
            details=[{"field": "to", "message": "must be after from", "type": "invalid_range"}],
        )
    before = decode_position(q.cursor, int)
    async with ctx.db.connection() as conn:
        if q.scope_type is not None:
            await identity.managed_place(ctx, conn, actor=actor, scope_type=q.scope_type, scope_id=q.scope_id)
        found = await repo.entries(
            conn,
            place=q.scope_id,
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
