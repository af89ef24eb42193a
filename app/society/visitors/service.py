"""Visitor rules: guards register walk-ins, residents answer and invite, guards
check visitors in and out. Each use case is one transaction; its events are
published in it and sent once it commits.

States: pending -> accepted | denied; pre_approved (invited);
accepted | pre_approved -> checked_in -> checked_out. Anything else is 409.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import uuid
from typing import Any

import asyncpg
import structlog

from app.identity.notifications import service as notifications
from app.platform import audit, context, idempotency
from app.platform.http import ApiError, Conflict, Forbidden, NotFound, Unprocessable, dumps
from app.platform.pagination import Cursor
from app.platform.realtime.outbox import Event
from app.platform.security.permissions import Principal
from app.platform.security.scopes import Scope
from app.platform.state import AppState
from app.society.hierarchy import service as hierarchy
from app.society.rooms import FLAT, SOCIETY, flat_room, society_room
from app.society.visitors import alerts, repo
from app.society.visitors.schemas import CheckinIn, InvitePatch, VisitorIn

log = structlog.get_logger(__name__)

GATE_ROLES = ("guard", "society_admin")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread at the gate
MAX_INVITE_AHEAD = dt.timedelta(days=90)
_ANSWER_ATTEMPTS = 3


def _invite_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def _sees(actor: Principal, visitor: repo.Visitor) -> bool:
    return actor.has("resident", "flat", visitor.flat_id) or actor.has(GATE_ROLES, "society", visitor.society_id)


async def _visible(conn: asyncpg.Connection, actor: Principal, visitor_id: uuid.UUID) -> repo.Visitor:
    """The visitor if the caller may see it; 404 otherwise, so ids of others' visitors reveal nothing."""
    visitor = await repo.get_visitor(conn, visitor_id)
    if visitor is None or not _sees(actor, visitor):
        raise NotFound("No such visitor.")
    return visitor


async def create_visitor(
    ctx: AppState, *, actor: Principal, data: VisitorIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """A guard's walk-in request (to the flat's residents) or a resident's invitation (to the gate)."""
    if data.expected_at is None:
        return await _walk_in(ctx, actor, data, attempt)
    async with ctx.db.transaction() as tx:
        society_id = await hierarchy.society_of_flat(tx.conn, data.flat_id)
        if society_id is None:
            raise NotFound("No such flat.")
        # Rights first: a stored response is replayed only to someone who may still make the request.
        if not actor.has("resident", "flat", data.flat_id):
            raise Forbidden("Only a resident of this flat invites visitors to it.")
        key = await idempotency.claim(tx, user_id=actor.user_id, attempt=attempt)
        if isinstance(key, idempotency.Replay):
            return key.status, key.body
        visitor = await _invite(tx.conn, actor, data, society_id)
        ctx.outbox.publish(tx, society_room(visitor.society_id), "expected_visitor", visitor)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action=f"visitor.{visitor.status}",
            where=Scope(FLAT, visitor.flat_id, {SOCIETY: visitor.society_id}),
            resource_type="visitor",
            resource_id=visitor.id,
        )
        await key.save(201, visitor)
        return 201, visitor


def _new_walk_in(actor: Principal, data: VisitorIn, now: dt.datetime) -> dict[str, Any]:
    """A walk-in's fields as the API shows them (all but its society, which the write finds)."""
    return {
        "id": uuid.uuid4(),
        "flat_id": data.flat_id,
        "name": data.name,
        "phone": data.phone,
        "purpose": data.purpose,
        "vehicle_number": data.vehicle_number,
        "status": "pending",
        "invite_code": None,
        "expected_at": None,
        "created_by": actor.user_id,
        "responded_by": None,
        "responded_by_name": None,
        "responded_at": None,
        "response_note": None,
        "escalated_at": None,
        "created_at": now,
        "updated_at": now,
    }


async def _refused_walk_in(conn: asyncpg.Connection, flat_id: uuid.UUID) -> ApiError:
    """Why a walk-in wrote nothing: no such flat (404), or not this guard's society (403)."""
    if await hierarchy.society_of_flat(conn, flat_id) is None:
        return NotFound("No such flat.")
    return Forbidden("Only a guard of this society registers visitors at the gate.")


async def _walk_in(ctx: AppState, actor: Principal, data: VisitorIn, attempt: idempotency.Attempt) -> tuple[int, Any]:
    """The busiest write at the gate, in one statement (see `repo.register_walk_in`).

    The visitor's id and times are set here so its JSON is serialised once, for the response,
    the event and the stored idempotent response alike.
    """
    now = dt.datetime.now(dt.UTC)
    fields = _new_walk_in(actor, data, now)
    room = flat_room(data.flat_id)
    async with ctx.db.connection() as conn:
        try:
            written = await repo.register_walk_in(
                conn,
                visitor_id=fields["id"],
                flat_id=data.flat_id,
                name=data.name,
                phone=data.phone,
                purpose=data.purpose,
                vehicle_number=data.vehicle_number,
                created_by=actor.user_id,
                escalate_at=now + dt.timedelta(seconds=ctx.settings.visitor_escalate_after),
                created_at=now,
                document=dumps(fields).decode(),
                any_society=actor.is_admin,
                societies=list(actor.scope_ids("guard", "society")),
                request_id=context.request_id.get(),
                ip=context.client_ip.get(),
                idempotency=None if attempt.key is None else (attempt.scope, attempt.key, attempt.digest),
                room=room,
                society_room_type=SOCIETY,
            )
        except asyncpg.UniqueViolationError as exc:
            if attempt.key is None or exc.constraint_name != "idempotency_keys_pkey":
                raise
            replay = await idempotency.replay(conn, user_id=actor.user_id, attempt=attempt)
            return replay.status, replay.body
        if written is None:
            raise await _refused_walk_in(conn, data.flat_id)
    visitor = repo.Visitor(society_id=written.society_id, **fields)
    flat_event, society_event = written.event_ids
    await ctx.outbox.emit_committed(
        [
            Event(flat_event, "visitor_request", room, written.event_at, visitor),
            Event(society_event, "visitor_request", society_room(written.society_id), written.event_at, visitor),
        ],
        quiet=written.quiet,
    )
    if written.devices:
        # Pushing talks to FCM; it runs after the response, never inside the request.
        ctx.hub.spawn(alerts.push_visitor_request(ctx, visitor, written.devices))
    return 201, visitor


async def _invite(conn: asyncpg.Connection, actor: Principal, data: VisitorIn, society_id: uuid.UUID) -> repo.Visitor:
    """A resident's invitation (the caller has checked they are one), with a fresh invite code."""
    assert data.expected_at is not None
    _check_expected(data.expected_at)
    for _ in range(5):
        try:
            async with conn.transaction():
                return await repo.insert_invite(
                    conn,
                    society_id=society_id,
                    flat_id=data.flat_id,
                    name=data.name,
                    phone=data.phone,
                    purpose=data.purpose,
                    vehicle_number=data.vehicle_number,
                    invite_code=_invite_code(),
                    expected_at=data.expected_at,
                    created_by=actor.user_id,
                )
        except asyncpg.UniqueViolationError:
            continue  # an invite code already in use: draw another
    raise Conflict("Could not allocate an invite code; try again.", code="invite_code_exhausted")


def _check_expected(expected_at: dt.datetime) -> None:
    now = dt.datetime.now(dt.UTC)
    if not now - dt.timedelta(hours=1) <= expected_at <= now + MAX_INVITE_AHEAD:
        raise Unprocessable("expected_at must be between an hour ago and 90 days ahead.", code="invalid_expected_at")


async def _own_invite(conn: asyncpg.Connection, actor: Principal, visitor_id: uuid.UUID) -> repo.Visitor:
    """An invitation of a flat the caller lives in (404 for anyone else's visitor, 403 for the gate's)."""
    visitor = await _visible(conn, actor, visitor_id)
    if not actor.has("resident", "flat", visitor.flat_id):
        raise Forbidden("Only a resident of the flat changes its invitations.")
    if visitor.invite_code is None:
        raise Conflict(
            "This visitor came to the gate uninvited: there is no invitation to change.", code="not_an_invite"
        )
    return visitor


def _not_pending(visitor: repo.Visitor) -> Conflict:
    return Conflict(
        f"The invitation is {visitor.status}: only one still waiting at the gate changes.",
        code="invite_closed",
        details={"status": visitor.status},
    )


async def update_invite(ctx: AppState, *, actor: Principal, visitor_id: uuid.UUID, data: InvitePatch) -> repo.Visitor:
    """Change an invitation before the visitor arrives; the gate (and the flat) hear of it."""
    changes = {name: getattr(data, name) for name in data.model_fields_set if name in repo.INVITE_COLUMNS}
    async with ctx.db.transaction() as tx:
        visitor = await _own_invite(tx.conn, actor, visitor_id)
        if "expected_at" in changes:
            _check_expected(data.expected_at)
        changed = await repo.update_invite(tx.conn, visitor_id, changes) if changes else None
        if changed is None:
            if visitor.status != "pre_approved" or changes:
                raise _not_pending(await repo.get_visitor(tx.conn, visitor_id) or visitor)
            return visitor
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="visitor.invite_updated",
            where=Scope(FLAT, changed.flat_id, {SOCIETY: changed.society_id}),
            resource_type="visitor",
            resource_id=visitor_id,
            details={"fields": sorted(changes)},
        )
        ctx.outbox.publish(tx, society_room(changed.society_id), "invite_updated", changed)
        ctx.outbox.publish(tx, flat_room(changed.flat_id), "invite_updated", changed)
        return changed


async def cancel_invite(ctx: AppState, *, actor: Principal, visitor_id: uuid.UUID) -> None:
    """Call an invitation off: its code lets nobody in from now on; the gate (and the flat) hear of it."""
    async with ctx.db.transaction() as tx:
        visitor = await _own_invite(tx.conn, actor, visitor_id)
        moved = await repo.move(
            tx.conn,
            visitor_id=visitor_id,
            from_statuses=("pre_approved",),
            to_status="cancelled",
            actor_id=actor.user_id,
        )
        if moved is None:
            raise _not_pending(await repo.get_visitor(tx.conn, visitor_id) or visitor)
        ctx.outbox.publish(tx, society_room(moved.society_id), "invite_cancelled", moved)
        ctx.outbox.publish(tx, flat_room(moved.flat_id), "invite_cancelled", moved)


async def respond(
    ctx: AppState, *, actor: Principal, visitor_id: uuid.UUID, approve: bool, note: str | None
) -> repo.Visitor:
    """A resident's answer; of two answers at once exactly one wins, the other is 409.

    The visitor is read, the answer built here, and written in one statement that applies only
    if the row is still as it was read (see `repo.answer`); a row that changed in between (an
    escalation, say) is read again.
    """
    event_type = "request_approved" if approve else "request_denied"
    async with ctx.db.connection() as conn:
        for _ in range(_ANSWER_ATTEMPTS):
            found = await repo.get_visitor_version(conn, visitor_id)
            if found is None or not _sees(actor, found[0]):
                raise NotFound("No such visitor.")
            current, version = found
            if not actor.has("resident", "flat", current.flat_id):
                raise Forbidden("Only a resident of the flat answers for it.")
            if current.status != "pending":
                raise Conflict(
                    "This request was already answered.", code="already_decided", details={"status": current.status}
                )
            now = dt.datetime.now(dt.UTC)
            answered = dataclasses.replace(
                current,
                status="accepted" if approve else "denied",
                responded_by=actor.user_id,
                responded_by_name=actor.name,
                responded_at=now,
                response_note=note,
                updated_at=now,
            )
            rooms = sorted((flat_room(answered.flat_id), society_room(answered.society_id)))
            written, quiet = await repo.answer(
                conn,
                answered=answered,
                version=version,
                request_id=context.request_id.get(),
                ip=context.client_ip.get(),
                rooms=rooms,
                event_type=event_type,
                document=dumps(answered).decode(),
            )
            if written:
                break
        else:
            raise Conflict("The request kept changing; try again.", code="concurrent_change")
    pairs = zip(rooms, written, strict=True)
    await ctx.outbox.emit_committed(
        [Event(eid, event_type, room, at, answered) for room, (eid, at) in pairs], quiet=quiet
    )
    return answered


async def send_invite(ctx: AppState, *, actor: Principal, visitor_id: uuid.UUID, channel: str) -> str:
    """Send the invite code to the visitor's phone; returns the first attempt's outcome (a failed one is retried)."""
    async with ctx.db.connection() as conn:
        visitor = await _visible(conn, actor, visitor_id)
    if not actor.has("resident", "flat", visitor.flat_id):
        raise Forbidden("Only a resident of the flat sends its invites.")
    if visitor.status != "pre_approved" or visitor.invite_code is None:
        raise Conflict("Only an invited visitor who has not arrived can be sent the invite.", code="not_invited")
    if visitor.phone is None:
        raise Conflict("The visitor has no phone number.", code="no_phone")
    await ctx.limits.check_user("invite", actor.user_id)
    return await alerts.deliver_invite(ctx, visitor, channel=channel, actor_id=actor.user_id)


async def check_in(ctx: AppState, *, actor: Principal, data: CheckinIn) -> repo.Visit:
    """Let an accepted or invited visitor in; pending and denied visitors stay out (409)."""
    async with ctx.db.transaction() as tx:
        found = (
            await repo.get_visitor(tx.conn, data.visitor_id)
            if data.visitor_id
            else await repo.visitor_by_invite_code(tx.conn, data.invite_code or "")
        )
        if found is None or not actor.has("guard", "society", found.society_id):
            raise NotFound("No such visitor.")
        moved = await repo.move(
            tx.conn,
            visitor_id=found.id,
            from_statuses=("accepted", "pre_approved"),
            to_status="checked_in",
            actor_id=actor.user_id,
        )
        if moved is None:
            current = await repo.get_visitor(tx.conn, found.id)
            raise Conflict(
                "This visitor cannot be checked in now.",
                code="not_allowed_in",
                details={"status": current.status if current else None},
            )
        visit = await repo.insert_visit(tx.conn, visitor=moved, guard_id=actor.user_id)
        ctx.outbox.publish(tx, flat_room(moved.flat_id), "visitor_checked_in", visit)
        ctx.outbox.publish(tx, society_room(moved.society_id), "visitor_checked_in", visit)
        return visit


async def check_out(ctx: AppState, *, actor: Principal, visitor_id: uuid.UUID) -> repo.Visit:
    async with ctx.db.transaction() as tx:
        found = await repo.get_visitor(tx.conn, visitor_id)
        if found is None or not actor.has("guard", "society", found.society_id):
            raise NotFound("No such visitor.")
        moved = await repo.move(
            tx.conn,
            visitor_id=visitor_id,
            from_statuses=("checked_in",),
            to_status="checked_out",
            actor_id=actor.user_id,
        )
        if moved is None:
            raise Conflict("This visitor is not checked in.", code="not_checked_in", details={"status": found.status})
        visit = await repo.close_visit(tx.conn, visitor_id=visitor_id, guard_id=actor.user_id)
        assert visit is not None, "a checked-in visitor always has an open visit"
        ctx.outbox.publish(tx, flat_room(moved.flat_id), "visitor_checked_out", visit)
        ctx.outbox.publish(tx, society_room(moved.society_id), "visitor_checked_out", visit)
        return visit


@dataclasses.dataclass(frozen=True, slots=True)
class Bounds:
    """What a caller may list: its flats, each from where its view of the past starts (None: all of
    it), and its gate societies; `everything` for admins."""

    flats: dict[uuid.UUID, dt.datetime | None]
    societies: list[uuid.UUID]
    everything: bool = False

    def flat_args(self) -> tuple[list[uuid.UUID] | None, list[dt.datetime | None] | None]:
        if self.everything:
            return None, None
        return list(self.flats), list(self.flats.values())


async def _bounds(
    conn: asyncpg.Connection, actor: Principal, flat_id: uuid.UUID | None, society_id: uuid.UUID | None
) -> Bounds:
    """What the caller may list (see `Bounds`); 403 for a filter outside it."""
    if actor.is_admin:
        return Bounds({}, [], everything=True)
    flats = actor.history_from("resident", "flat")
    societies = sorted(actor.scope_ids(GATE_ROLES, "society"))
    if not flats and not societies:
        raise Forbidden("Only residents, guards and society admins see visitors.")
    if society_id is not None and society_id not in societies:
        raise Forbidden("You do not work at this society's gate.")
    if flat_id is not None and flat_id not in flats:
        flat_society = await hierarchy.society_of_flat(conn, flat_id)
        if flat_society is None or flat_society not in societies:
            raise Forbidden("This is not your flat.")
    return Bounds(flats, societies)


async def list_visitors(
    ctx: AppState,
    *,
    actor: Principal,
    flat_id: uuid.UUID | None,
    society_id: uuid.UUID | None,
    status: str | None,
    after: Cursor,
    limit: int,
) -> list[repo.Visitor]:
    async with ctx.db.connection() as conn:
        bounds = await _bounds(conn, actor, flat_id, society_id)
        flats, flats_from = bounds.flat_args()
        return await repo.list_visitors(
            conn,
            flat_ids=flats,
            flats_from=flats_from,
            society_ids=None if bounds.everything else bounds.societies,
            flat_id=flat_id,
            society_id=society_id,
            status=status,
            after=after,
            limit=limit,
        )


async def list_visits(
    ctx: AppState,
    *,
    actor: Principal,
    flat_id: uuid.UUID | None,
    society_id: uuid.UUID | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    after: Cursor,
    limit: int,
) -> list[repo.Visit]:
    async with ctx.db.connection() as conn:
        bounds = await _bounds(conn, actor, flat_id, society_id)
        flats, flats_from = bounds.flat_args()
        return await repo.list_visits(
            conn,
            flat_ids=flats,
            flats_from=flats_from,
            society_ids=None if bounds.everything else bounds.societies,
            flat_id=flat_id,
            society_id=society_id,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )


async def expected_visitors(
    ctx: AppState, *, actor: Principal, society_id: uuid.UUID, day: dt.date
) -> list[repo.Visitor]:
    """Invited visitors due on a (UTC) day, for the gate."""
    if not actor.has(GATE_ROLES, "society", society_id):
        raise Forbidden("You do not work at this society's gate.")
    async with ctx.db.connection() as conn:
        return await repo.expected_on(conn, society_id=society_id, day=day)


async def register_device(ctx: AppState, *, actor: Principal, token: str, platform: str) -> None:
    """Where to push this user's alerts (guards and residents): to this session's device."""
    if not (actor.is_admin or actor.scope_ids("guard", "society") or actor.scope_ids("resident", "flat")):
        raise Forbidden("Only guards and residents register devices.")
    await notifications.register_device(ctx, actor=actor, token=token, platform=platform)


async def escalate_due(ctx: AppState) -> int:
    """Tell the gate about requests nobody answered in time; each fires once, on one worker."""
    async with ctx.db.transaction() as tx:
        due = await repo.claim_due_escalations(tx.conn)
        for visitor in due:
            ctx.outbox.publish(tx, society_room(visitor.society_id), "request_escalated", visitor)
    return len(due)


async def escalate(ctx: AppState, payload: dict[str, Any]) -> None:
    """The escalation job: one sweep of requests past their deadline (scheduled every ESCALATION_INTERVAL)."""
    await escalate_due(ctx)


async def keep_partitions(ctx: AppState, payload: dict[str, Any]) -> None:
    """The daily job that keeps visit partitions three months ahead."""
    async with ctx.db.connection() as conn:
        made = await repo.ensure_visit_partitions(conn)
    if made:
        log.info("visit_partitions_created", count=made)
