"""Roles waiting for people who have no account yet. A scope admin (or an admin) invites an e-mail address
or a phone number to a role they may hand out; a job sends a one-time code there. The invitee signs up (or
in) and shows the code: if their account has that address or number, the role is theirs, granted as the
inviter would grant it now (so an inviter who lost the right meanwhile grants nothing).

Why a code and not "the role appears on first sign-in": sign-up does not prove an e-mail address or a
phone number is the caller's, so matching on it alone would hand the role to whoever registered first
with someone else's address. The code proves the mailbox or the phone. A Firebase sign-in proves its
verified e-mail address or phone number just as well, so it takes up what waits for them with no code
(`identity.service._take_up_verified`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from typing import Any

from app.identity import repo as identity_repo
from app.identity import service as identity
from app.identity.invitations import repo
from app.identity.invitations.schemas import ClaimIn, InvitationIn
from app.platform import audit, notify
from app.platform.http import Conflict, NotFound
from app.platform.jobs import RetryLater
from app.platform.notify import Content
from app.platform.security.permissions import Principal
from app.platform.state import AppState

SEND_JOB = "identity.role_invitation"
LIFETIME = dt.timedelta(days=14)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over a phone


def _code_hash(ctx: AppState, code: str) -> bytes:
    return hmac.new(ctx.settings.jwt_secret.encode(), f"role-invitation:{code}".encode(), hashlib.sha256).digest()


def _digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


async def invite(ctx: AppState, *, actor: Principal, data: InvitationIn) -> repo.Invitation:
    await ctx.limits.check_user("invite", actor.user_id)  # each one is a message that reaches a stranger
    async with ctx.db.transaction() as tx:
        scope = await identity.grantable(
            ctx, tx.conn, actor=actor, role=data.role, scope_type=data.scope_type, scope_id=data.scope_id
        )
        invitation = await repo.insert(
            tx.conn,
            email=str(data.email) if data.email else None,
            phone=data.phone,
            role=data.role,
            scope_type=data.scope_type,
            scope_id=data.scope_id,
            history_from=data.history_from,
            invited_by=actor.user_id,
            ttl=LIFETIME,
        )
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=scope,
            action="role_invitation.created",
            resource_type="role_invitation",
            resource_id=invitation.id,
            details={"role": data.role, "scope_type": data.scope_type, "scope_id": data.scope_id},
        )
        await ctx.jobs.enqueue(tx, SEND_JOB, {"invitation_id": str(invitation.id)})
        return invitation


async def send_code(ctx: AppState, payload: dict[str, Any]) -> None:
    """The job: a fresh code for an invitation still waiting (only its hash is kept), sent and logged."""
    invitation_id = uuid.UUID(payload["invitation_id"])
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    async with ctx.db.transaction() as tx:
        invitation = await repo.set_code(tx.conn, invitation_id, _code_hash(ctx, code))
    if invitation is None:
        return  # claimed, cancelled or expired meanwhile
    channel, to = ("email", invitation.email) if invitation.email else ("sms", invitation.phone)
    assert to is not None, "an invitation names an address or a number"
    data = {
        "code": code,
        "role": invitation.role,
        "scope_type": invitation.scope_type,
        "expires_at": invitation.expires_at.isoformat(),
    }
    content = Content(
        subject="You are invited to Gatehouse",
        text=f"You are invited to take the role {invitation.role.replace('_', ' ')}. Sign up or sign in with this "
        f"address and enter the code {code} before {invitation.expires_at:%Y-%m-%d %H:%M} UTC.",
    )
    outcome = await ctx.notifier.send(channel=channel, to=to, template="role_invitation", data=data, content=content)
    async with ctx.db.transaction() as tx:
        await notify.record(
            tx.conn,
            [notify.Attempt(None, channel, to, "role_invitation", "role_invitation", str(invitation_id), outcome)],
        )
    if outcome == "failed":
        raise RetryLater("the gateway did not take the invitation")


async def waiting(ctx: AppState, *, actor: Principal, scope_type: str, scope_id: uuid.UUID) -> list[repo.Invitation]:
    """The invitations still waiting at a place, for those who manage its people."""
    async with ctx.db.connection() as conn:
        await identity.managed_place(ctx, conn, actor=actor, scope_type=scope_type, scope_id=scope_id)
        return await repo.waiting_at(conn, scope_type, scope_id)


async def cancel(ctx: AppState, *, actor: Principal, invitation_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        invitation = await repo.get(tx.conn, invitation_id)
        if invitation is None or invitation.scope_id is None:
            raise NotFound("No such invitation.")
        scope = await identity.managed_place(
            ctx, tx.conn, actor=actor, scope_type=invitation.scope_type, scope_id=invitation.scope_id
        )
        if not await repo.cancel(tx.conn, invitation_id):
            raise Conflict("The invitation was taken up, cancelled or has expired.", code="invitation_closed")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=scope,
            action="role_invitation.cancelled",
            resource_type="role_invitation",
            resource_id=invitation_id,
        )


async def claim(ctx: AppState, *, actor: Principal, data: ClaimIn) -> identity_repo.RoleAssignment:
    """Take up an invitation with its code, from the account with the address or number it was sent to;
    any other code, account or lapsed invitation is the same 404, counted against the caller."""
    account = f"claim:{actor.user_id}"
    await ctx.limits.check_account("invitation", account)
    async with ctx.db.transaction() as tx:
        invitation = await repo.waiting_by_code(tx.conn, _code_hash(ctx, data.code))
        me = await identity_repo.get_user(tx.conn, actor.user_id)
        matches = (
            invitation is not None
            and me is not None
            and (
                (invitation.email is not None and (me.email or "").lower() == invitation.email.lower())
                or (invitation.phone is not None and _digits(me.phone) == _digits(invitation.phone) != "")
            )
        )
        if matches:
            assert invitation is not None
            return await identity.take_up_invitation(ctx, tx, invitation, actor.user_id, proof="code")
    await ctx.limits.count_account_failure("invitation", account)
    raise NotFound("No invitation with this code is waiting for you.", code="invalid_code")
