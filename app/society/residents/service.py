"""Joining a flat: a user asks, the society's admin approves (granting the
resident role in the same transaction) or rejects; the user hears at once."""

from __future__ import annotations

import datetime as dt
import uuid

from app.identity import service as identity
from app.identity.schemas import RoleAssignmentIn
from app.platform import audit
from app.platform.http import Conflict, Forbidden, NotFound
from app.platform.pagination import Cursor
from app.platform.realtime.rooms import user_room
from app.platform.security.permissions import Principal
from app.platform.security.scopes import Scope
from app.platform.state import AppState
from app.society.hierarchy import service as hierarchy
from app.society.residents import repo
from app.society.rooms import FLAT, SOCIETY, society_room


async def request_to_join(
    ctx: AppState, *, actor: Principal, flat_id: uuid.UUID, relation: str
) -> repo.ResidentRequest:
    """Ask to be a resident of a flat; one pending request per flat."""
    if actor.has("resident", "flat", flat_id) and not actor.is_admin:
        raise Conflict("You are already a resident of this flat.", code="already_resident")
    await ctx.limits.check_user("resident_request", actor.user_id)
    async with ctx.db.transaction() as tx:
        society_id = await hierarchy.society_of_flat(tx.conn, flat_id)
        if society_id is None:
            raise NotFound("No such flat.")
        created = await repo.insert_request(
            tx.conn, user_id=actor.user_id, flat_id=flat_id, society_id=society_id, relation=relation
        )
        if created is None:
            raise Conflict("You already asked to join this flat.", code="request_pending")
        ctx.outbox.publish(tx, society_room(society_id), "resident_request_created", created)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="resident_request.created",
            where=Scope(FLAT, flat_id, {SOCIETY: society_id}),
            resource_type="resident_request",
            resource_id=created.id,
        )
        return created


async def decide(
    ctx: AppState,
    *,
    actor: Principal,
    request_id: uuid.UUID,
    approve: bool,
    history_from: dt.datetime | None = None,
) -> repo.ResidentRequest:
    """A society admin's decision; approving makes the user a resident of the flat, who sees its
    past from `history_from` on (by default from now)."""
    async with ctx.db.transaction() as tx:
        found = await repo.get_request(tx.conn, request_id)
        if found is None or not (
            actor.has("society_admin", "society", found.society_id) or found.user_id == actor.user_id
        ):
            raise NotFound("No such request.")
        if not actor.has("society_admin", "society", found.society_id):
            raise Forbidden("Only the society's admins decide.")
        decided = await repo.decide(
            tx.conn, request_id=request_id, status="approved" if approve else "rejected", decided_by=actor.user_id
        )
        if decided is None:
            raise Conflict(
                "This request was already decided.", code="already_decided", details={"status": found.status}
            )
        if approve:
            await identity.grant_role_in(
                ctx,
                tx,
                actor=actor,
                data=RoleAssignmentIn(
                    user_id=decided.user_id,
                    role="resident",
                    scope_type="flat",
                    scope_id=decided.flat_id,
                    history_from=history_from,
                ),
            )
            await repo.add_occupancy(
                tx.conn, flat_id=decided.flat_id, user_id=decided.user_id, relation=decided.relation
            )
        ctx.outbox.publish(tx, user_room(decided.user_id), "resident_request_updated", decided)
        ctx.outbox.publish(tx, society_room(decided.society_id), "resident_request_updated", decided)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action=f"resident_request.{decided.status}",
            where=Scope(FLAT, decided.flat_id, {SOCIETY: decided.society_id}),
            resource_type="resident_request",
            resource_id=request_id,
        )
        return decided


async def list_requests(
    ctx: AppState, *, actor: Principal, status: str | None, after: Cursor, limit: int
) -> list[repo.ResidentRequest]:
    """Admins see all, society admins their societies' (and their own), everyone else their own."""
    societies = None if actor.is_admin else sorted(actor.scope_ids("society_admin", "society"))
    user_id = None if actor.is_admin else actor.user_id
    async with ctx.db.connection() as conn:
        return await repo.list_requests(
            conn, society_ids=societies, user_id=user_id, status=status, after=after, limit=limit
        )
