"""Issues in a mall: anyone signed in reports one; the mall's admins and security assign it to staff
and move it along `open → assigned → in_progress → resolved → closed` (or `reopened`); assignees
move their own forward. Every move is kept with who made it; a move the machine does not allow is 409."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from app.identity import service as identity
from app.mall.issues import keys, repo
from app.mall.issues.schemas import AssignIn, DetectionIn, IssueIn, IssuesQuery, MoveIn
from app.mall.places import service as places
from app.mall.rooms import MALL, SHOP, mall_room
from app.platform import audit, idempotency
from app.platform.db import Tx
from app.platform.http import Conflict, NotFound, Unauthorized, Unprocessable
from app.platform.pagination import decode_cursor
from app.platform.realtime.rooms import user_room
from app.platform.security.permissions import Principal, require
from app.platform.security.scopes import Scope
from app.platform.state import AppState

OVERSEERS = ("mall_admin", "security")
SHOP_STAFF = ("employee", "shop_manager")
MOVES = {
    "open": {"assigned", "in_progress", "closed"},
    "assigned": {"in_progress", "resolved"},
    "in_progress": {"resolved"},
    "resolved": {"closed", "reopened"},
    "closed": {"reopened"},
    "reopened": {"assigned", "in_progress", "closed"},
}
ASSIGNEE_MOVES = {("assigned", "in_progress"), ("in_progress", "resolved")}


async def _works_at(conn: asyncpg.Connection, who: Principal, mall_id: uuid.UUID) -> bool:
    """Whether `who` is on the mall's staff: its admins or security, or staff of one of its shops."""
    if any(g.role in OVERSEERS and g.scope_type == MALL and g.scope_id == mall_id for g in who.grants):
        return True
    for shop_id in who.scope_ids(SHOP_STAFF, SHOP):
        shop = await places.shop_of(conn, shop_id)
        if shop is not None and shop.mall_id == mall_id:
            return True
    return False


async def report(ctx: AppState, *, actor: Principal, data: IssueIn, attempt: idempotency.Attempt) -> tuple[int, Any]:
    """Anyone signed in reports an issue; a retry with the same Idempotency-Key is the same report."""

    async def work(tx: Tx) -> repo.Issue:
        issue = await repo.insert(
            tx.conn,
            mall_id=data.mall_id,
            issue_type=data.issue_type,
            details=data.details,
            location=data.location,
            shop_id=data.shop_id,
            image_url=data.image_url,
            source="staff" if await _works_at(tx.conn, actor, data.mall_id) else "customer",
            reported_by=actor.user_id,
        )
        ctx.outbox.publish(tx, mall_room(data.mall_id), "issue_reported", issue)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, data.mall_id),
            action="issue.reported",
            resource_type="issue",
            resource_id=issue.id,
        )
        return issue

    async with ctx.db.transaction() as tx:
        if await places.mall_of(tx.conn, data.mall_id) is None:
            raise NotFound("No such mall.")
        await _shop_in_mall(tx.conn, data.shop_id, data.mall_id)
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def _shop_in_mall(conn: asyncpg.Connection, shop_id: uuid.UUID | None, mall_id: uuid.UUID) -> None:
    """422 for a shop that is not one of the mall's."""
    if shop_id is None:
        return
    shop = await places.shop_of(conn, shop_id)
    if shop is None or shop.mall_id != mall_id:
        raise Unprocessable("The shop is not one of the mall's.", code="shop_not_in_mall", details={"shop_id": shop_id})


def _may_see(actor: Principal, issue: repo.Issue) -> bool:
    return (
        actor.has(OVERSEERS, MALL, issue.mall_id)
        or actor.user_id in issue.assignees
        or actor.user_id == issue.reported_by
    )


async def get_issue(ctx: AppState, *, actor: Principal, issue_id: uuid.UUID) -> repo.Issue:
    async with ctx.db.connection() as conn:
        issue = await repo.get(conn, issue_id)
    if issue is None or not _may_see(actor, issue):
        raise NotFound("No such issue.")
    return issue


async def list_issues(ctx: AppState, *, actor: Principal, q: IssuesQuery) -> list[repo.Issue]:
    """The mall's admins and security see all; others the issues assigned to them or that they reported."""
    where = repo.IssueFilter(
        mall_id=q.mall_id,
        state=q.state,
        issue_type=q.issue_type,
        source=q.source,
        shop_id=q.shop_id,
        assignee=q.assignee,
        since=q.from_,
        until=q.to,
        seen_by=None if actor.has(OVERSEERS, MALL, q.mall_id) else actor.user_id,
    )
    async with ctx.db.connection() as conn:
        return await repo.list_issues(conn, where=where, after=decode_cursor(q.cursor), limit=q.limit)


async def delete(ctx: AppState, *, actor: Principal, issue_id: uuid.UUID) -> None:
    """An issue reported by mistake (or a duplicate) goes, for the mall's admins; the audit keeps it."""
    async with ctx.db.transaction() as tx:
        issue = await repo.get(tx.conn, issue_id)
        if issue is None or not _may_see(actor, issue):
            raise NotFound("No such issue.")
        require(actor, "mall_admin", MALL, issue.mall_id)
        await repo.delete(tx.conn, issue_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, issue.mall_id),
            action="issue.deleted",
            resource_type="issue",
            resource_id=issue_id,
            details={"issue_type": issue.issue_type, "details": issue.details, "state": issue.state},
        )
        ctx.outbox.publish(tx, mall_room(issue.mall_id), "issue_deleted", issue)


async def assign(ctx: AppState, *, actor: Principal, issue_id: uuid.UUID, data: AssignIn) -> repo.Issue:
    async with ctx.db.transaction() as tx:
        issue = await repo.get(tx.conn, issue_id)
        if issue is None or not _may_see(actor, issue):
            raise NotFound("No such issue.")
        require(actor, OVERSEERS, MALL, issue.mall_id)
        for user_id in data.user_ids:
            try:
                staff = await identity.principal_of(ctx.db, user_id)
            except NotFound:
                staff = None
            if staff is None or not await _works_at(tx.conn, staff, issue.mall_id):
                raise Unprocessable(
                    "Issues are assigned to the mall's staff only.", code="not_staff", details={"user_id": user_id}
                )
        added = await repo.assign(tx.conn, issue_id=issue_id, user_ids=data.user_ids, by=actor.user_id)
        if issue.state in ("open", "reopened"):
            await repo.move(
                tx.conn, issue_id=issue_id, expected=issue.state, to="assigned", actor_id=actor.user_id, note=data.note
            )
        updated = await repo.get(tx.conn, issue_id)
        assert updated is not None, "read in this transaction"
        for user_id in added:
            ctx.outbox.publish(tx, user_room(user_id), "issue_assigned", updated)
        ctx.outbox.publish(tx, mall_room(issue.mall_id), "issue_updated", updated)
        return updated


async def move(
    ctx: AppState, *, actor: Principal, issue_id: uuid.UUID, data: MoveIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """Move an issue along; a retry with the same Idempotency-Key gets the first answer, not a 409."""
    async with ctx.db.transaction() as tx:
        issue = await repo.get(tx.conn, issue_id)
        if issue is None or not _may_see(actor, issue):
            raise NotFound("No such issue.")

        async def work(tx: Tx) -> repo.Issue:
            own_move = actor.user_id in issue.assignees and (issue.state, data.to) in ASSIGNEE_MOVES
            if not own_move:
                require(actor, OVERSEERS, MALL, issue.mall_id)
            if data.to not in MOVES[issue.state]:
                raise Conflict(
                    f"An issue that is {issue.state} cannot become {data.to}.",
                    code="invalid_move",
                    details={"state": issue.state, "allowed": sorted(MOVES[issue.state])},
                )
            if not await repo.move(
                tx.conn, issue_id=issue_id, expected=issue.state, to=data.to, actor_id=actor.user_id, note=data.note
            ):
                raise Conflict("The issue was moved meanwhile; read it again.", code="concurrent_change")
            updated = await repo.get(tx.conn, issue_id)
            assert updated is not None, "read in this transaction"
            ctx.outbox.publish(tx, mall_room(issue.mall_id), "issue_updated", updated)
            return updated

        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=200, work=work)


async def open_by_state(ctx: AppState, *, mall_id: uuid.UUID) -> dict[str, int]:
    """How many issues are in each state but closed."""
    async with ctx.db.connection() as conn:
        return await repo.open_by_state(conn, mall_id)


async def create_key(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID, name: str) -> keys.NewApiKey:
    """A key for a camera script of the mall (its admins); the key is shown in this answer only."""
    async with ctx.db.transaction() as tx:
        await places.require_mall_admin(tx.conn, actor, mall_id)
        made = await keys.create(tx.conn, mall_id=mall_id, name=name, by=actor.user_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, mall_id),
            action="api_key.created",
            resource_type="api_key",
            resource_id=made.id,
        )
        return made


async def list_keys(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID) -> list[keys.ApiKey]:
    async with ctx.db.connection() as conn:
        await places.require_mall_admin(conn, actor, mall_id)
        return await keys.list_for(conn, mall_id)


async def revoke_key(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID, key_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        require(actor, "mall_admin", MALL, mall_id)
        if not await keys.revoke(tx.conn, mall_id=mall_id, key_id=key_id):
            raise NotFound("No such API key.")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, mall_id),
            action="api_key.revoked",
            resource_type="api_key",
            resource_id=key_id,
        )


async def camera(ctx: AppState, key: str | None) -> keys.ApiKey:
    """The live API key a script shows; 401 for none, a wrong one or a revoked one."""
    if not key:
        raise Unauthorized("Send the mall's API key in x-api-key.", code="api_key_required")
    async with ctx.db.connection() as conn:
        found = await keys.use(conn, key)
    if found is None:
        raise Unauthorized("The API key is not valid.", code="invalid_api_key")
    return found


async def detect(ctx: AppState, *, key: keys.ApiKey, data: DetectionIn) -> tuple[repo.Issue, bool]:
    """A camera's detection in the key's mall: a new issue (to the mall room, once) or one more sighting
    of the one still open for that type and place. Returns the issue and whether it is new."""
    async with ctx.db.transaction() as tx:
        await _shop_in_mall(tx.conn, data.shop_id, key.mall_id)
        issue, created = await repo.detect(
            tx.conn,
            mall_id=key.mall_id,
            api_key_id=key.id,
            issue_type=data.issue_type,
            details=data.details,
            location=data.location,
            shop_id=data.shop_id,
            image_url=data.image_url,
        )
        if created:
            ctx.outbox.publish(tx, mall_room(key.mall_id), "model_issue_detected", issue)
        return issue, created
