"""Password reset by a one-time code: asked for by email, sent by a job, confirmed with a new password.

Only a keyed hash of a code is stored, and the email job draws the code as it
sends (a retry draws a new one); a confirmed reset ends every session of the
account, and five wrong codes end the reset.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from app.identity import repo, service
from app.platform import audit, notify
from app.platform.http import Unprocessable
from app.platform.jobs import RetryLater
from app.platform.notify import Content
from app.platform.state import AppState

MAX_RESET_ATTEMPTS = 5


def _code_hash(ctx: AppState, user_id: uuid.UUID, code: str) -> bytes:
    return hmac.new(ctx.settings.jwt_secret.encode(), f"{user_id}:{code}".encode(), hashlib.sha256).digest()


RESET_EMAIL = "identity.password_reset_email"


async def request_password_reset(ctx: AppState, *, email: str) -> None:
    """Queue a one-time code for the account, if it exists and has not had `RATE_LIMIT_RESET_EMAILS` codes
    lately; the caller learns nothing either way."""
    if not await ctx.limits.take_reset(email):
        return
    async with ctx.db.transaction() as tx:
        found = await repo.credentials_by_email(tx.conn, email)
        if found is None or found.disabled:
            return
        reset_id = await repo.insert_password_reset(
            tx.conn, user_id=found.user.id, ttl_seconds=ctx.settings.password_reset_ttl
        )
        await audit.record(
            tx.conn, actor_id=None, action="password_reset.requested", resource_type="user", resource_id=found.user.id
        )
        await ctx.jobs.enqueue(tx, RESET_EMAIL, {"reset_id": str(reset_id)})


async def send_reset_code(ctx: AppState, payload: dict[str, Any]) -> None:
    """The reset email job: a fresh code for a reset still live (only its hash is stored), sent and logged.

    Each attempt makes a new code, so no code is ever kept where a retry could read it.
    """
    reset_id = uuid.UUID(payload["reset_id"])
    code = f"{secrets.randbelow(10**6):06d}"
    async with ctx.db.transaction() as tx:
        target = await repo.live_reset(tx.conn, reset_id)
        if target is None:
            return  # used, replaced, expired or the account disabled meanwhile
        await repo.set_reset_code(tx.conn, reset_id=reset_id, code_hash=_code_hash(ctx, target.user_id, code))
    minutes = ctx.settings.password_reset_ttl // 60
    outcome = await ctx.notifier.send(
        channel="email",
        to=target.email,
        template="password_reset",
        data={"code": code, "expires_in": ctx.settings.password_reset_ttl},
        content=Content(
            subject="Your Gatehouse password reset code",
            text=f"Your code is {code}. It works once, for {minutes} minutes.\n\n"
            "If you did not ask to reset your password, ignore this e-mail: nothing changes.",
        ),
    )
    async with ctx.db.transaction() as tx:
        await notify.record(
            tx.conn,
            [
                notify.Attempt(
                    target.user_id, "email", target.email, "password_reset", "user", str(target.user_id), outcome
                )
            ],
        )
    if outcome == "failed":
        raise RetryLater("the email gateway did not take the reset code")


async def confirm_password_reset(ctx: AppState, *, email: str, code: str, new_password: str) -> None:
    """Set a new password with a live code; every session of the account ends. The code is checked before
    the new password is hashed, so a wrong guess costs no Argon2 hash; wrong codes count against the account
    (`RATE_LIMIT_ACCOUNT`) as well as against the code (five end it)."""
    await ctx.limits.check_account("reset", email)
    wrong = Unprocessable("The code is wrong or has expired.", code="invalid_reset_code")
    async with ctx.db.transaction() as tx:
        pending = await repo.lock_pending_reset(tx.conn, email)
        if pending is None:
            failed = True
        elif not hmac.compare_digest(pending.code_hash, _code_hash(ctx, pending.user_id, code)):
            await repo.count_reset_attempt(
                tx.conn, reset_id=pending.id, give_up=pending.attempts + 1 >= MAX_RESET_ATTEMPTS
            )
            failed = True
        else:
            failed = False
            await repo.use_reset(tx.conn, pending.id)
            await service.replace_password(
                ctx,
                tx,
                user_id=pending.user_id,
                password_hash=await ctx.passwords.hash(new_password),
                reason="password_reset",
                action="password_reset.confirmed",
            )
    if failed:
        await ctx.limits.count_account_failure("reset", email)
        raise wrong
