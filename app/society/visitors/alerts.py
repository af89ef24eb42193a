"""Reaching people off the socket: pushes to residents' phones and invite codes to visitors.

The first attempt runs at once, after the response; a delivery that failed in
a way that may pass (the network, a quota, the gateway down) becomes a job that
tries again with backoff, until it is sent or dead. Every attempt is logged in
`notification_logs`; a phone FCM says is gone is forgotten.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app.identity.notifications import service as notifications
from app.platform import audit, notify
from app.platform.jobs import Job, RetryLater
from app.platform.push import PushResult
from app.platform.security.scopes import Scope
from app.platform.state import AppState
from app.society.rooms import FLAT, SOCIETY
from app.society.visitors import repo

PUSH = "society.push_visitor_request"
INVITE = "society.send_invite"
RETRY_AFTER = dt.timedelta(seconds=2)  # the first retry; the job's backoff doubles it from there


# Pushes --------------------------------------------------------------------------------


def _push_message(visitor: repo.Visitor) -> dict[str, Any]:
    return {
        "title": "Visitor at the gate",
        "body": f"{visitor.name} is waiting" + (f" ({visitor.purpose})" if visitor.purpose else ""),
        "data": {"type": "visitor_request", "visitor_id": str(visitor.id), "flat_id": str(visitor.flat_id)},
    }


async def _settle_pushes(
    ctx: AppState, visitor: repo.Visitor, owners: dict[str, uuid.UUID], results: list[PushResult], *, retry: bool
) -> None:
    """Log each attempt, forget phones that are gone, and (first attempt only) queue a retry per phone that may
    yet be reached."""
    async with ctx.db.transaction() as tx:
        await notify.record(
            tx.conn,
            [
                notify.Attempt(
                    owners[r.token],
                    "push",
                    r.token[-16:],
                    "visitor_request",
                    "visitor",
                    str(visitor.id),
                    r.outcome,
                    r.error,
                )
                for r in results
            ],
        )
        await notifications.forget_devices(tx, [r.token for r in results if r.unregistered])
        if retry:
            for r in results:
                if r.retryable:
                    payload = {"visitor_id": str(visitor.id), "user_id": str(owners[r.token]), "token": r.token}
                    await ctx.jobs.enqueue(tx, PUSH, payload, run_at=dt.datetime.now(dt.UTC) + RETRY_AFTER)


async def push_visitor_request(ctx: AppState, visitor: repo.Visitor, devices: list[repo.Device]) -> None:
    """Push a walk-in to the flat's residents' phones (run after the response)."""
    results = await ctx.pusher.send([d.token for d in devices], **_push_message(visitor))
    await _settle_pushes(ctx, visitor, {d.token: d.user_id for d in devices}, results, retry=True)


async def retry_push(ctx: AppState, payload: dict[str, Any]) -> None:
    """The push job: one phone again, while the request still waits for an answer."""
    async with ctx.db.connection() as conn:
        visitor = await repo.get_visitor(conn, uuid.UUID(payload["visitor_id"]))
    if visitor is None or visitor.status != "pending":
        return  # answered (or gone) meanwhile: the push has nothing left to ask
    token = payload["token"]
    results = await ctx.pusher.send([token], **_push_message(visitor))
    await _settle_pushes(ctx, visitor, {token: uuid.UUID(payload["user_id"])}, results, retry=False)
    if any(r.retryable for r in results):
        raise RetryLater(results[0].error or "push failed")


# Invites -------------------------------------------------------------------------------


async def deliver_invite(
    ctx: AppState, visitor: repo.Visitor, *, channel: str, actor_id: uuid.UUID, retry: bool = True
) -> str:
    """Send an invited visitor their code once, log and audit the attempt, and (first attempt only) queue a retry
    if it failed; returns the outcome."""
    assert visitor.phone is not None
    outcome = await ctx.notifier.send(
        channel=channel,
        to=visitor.phone,
        template="visitor_invite",
        data={
            "code": visitor.invite_code,
            "name": visitor.name,
            "expected_at": visitor.expected_at.isoformat() if visitor.expected_at else None,
        },
    )
    async with ctx.db.transaction() as tx:
        await notify.record(
            tx.conn,
            [notify.Attempt(actor_id, channel, visitor.phone, "visitor_invite", "visitor", str(visitor.id), outcome)],
        )
        await audit.record(
            tx.conn,
            actor_id=actor_id,
            action="visitor.invite_sent",
            where=Scope(FLAT, visitor.flat_id, {SOCIETY: visitor.society_id}),
            resource_type="visitor",
            resource_id=visitor.id,
            details={"channel": channel, "outcome": outcome},
        )
        if retry and outcome == "failed":
            payload = {"visitor_id": str(visitor.id), "channel": channel, "actor_id": str(actor_id)}
            await ctx.jobs.enqueue(tx, INVITE, payload, run_at=dt.datetime.now(dt.UTC) + RETRY_AFTER)
    return outcome


async def retry_invite(ctx: AppState, payload: dict[str, Any]) -> None:
    """The invite job: send again, while the visitor is still expected."""
    async with ctx.db.connection() as conn:
        visitor = await repo.get_visitor(conn, uuid.UUID(payload["visitor_id"]))
    if visitor is None or visitor.status != "pre_approved" or visitor.invite_code is None or visitor.phone is None:
        return  # arrived, or the invitation is gone: nothing to send
    actor_id = uuid.UUID(payload["actor_id"])
    if await deliver_invite(ctx, visitor, channel=payload["channel"], actor_id=actor_id, retry=False) == "failed":
        raise RetryLater("the gateway did not take the invite")


JOBS = [Job(PUSH, retry_push, max_attempts=5, backoff=4.0), Job(INVITE, retry_invite, max_attempts=5, backoff=4.0)]
