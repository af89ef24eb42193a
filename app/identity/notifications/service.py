"""What reaches a person off the app, and where: their preferences, their phones, and the unsubscribe link
that works without signing in.

Other domains send (orders, promotions) and ask here who may hear what. The unsubscribe link carries the
user's id and a keyed hash of it, so it never expires and cannot be made for someone else; it only ever
turns promotions off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

import asyncpg

from app.identity import service as identity
from app.identity.notifications import repo
from app.identity.notifications.repo import Preferences, Recipient
from app.identity.notifications.schemas import PreferencesPatch
from app.platform import audit
from app.platform.db import Tx
from app.platform.http import NotFound
from app.platform.security.permissions import Principal
from app.platform.state import AppState

__all__ = ["Preferences", "Recipient"]


async def preferences(ctx: AppState, *, actor: Principal) -> Preferences:
    async with ctx.db.connection() as conn:
        return await repo.preferences(conn, actor.user_id)


async def change_preferences(ctx: AppState, *, actor: Principal, data: PreferencesPatch) -> Preferences:
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    async with ctx.db.transaction() as tx:
        updated = await repo.set_preferences(tx.conn, actor.user_id, changes)
        if "promotions" in changes:
            await audit.record(
                tx.conn,
                actor_id=actor.user_id,
                action="promotions.opted_in" if updated.promotions else "promotions.opted_out",
                resource_type="user",
                resource_id=actor.user_id,
            )
        return updated


async def recipients(
    conn: asyncpg.Connection, user_ids: list[uuid.UUID], *, promotions_only: bool = False
) -> list[Recipient]:
    return await repo.recipients(conn, user_ids, promotions_only=promotions_only)


# Phones ----------------------------------------------------------------------------


async def register_device(ctx: AppState, *, actor: Principal, token: str, platform: str) -> None:
    """Push this user's notifications to this session's device. A token another user registered means the
    device changed hands: that user's session on it ends, so what is pushed to them (visitor names, order
    news) stops reaching the new holder."""
    async with ctx.db.transaction() as tx:
        before = await repo.upsert_device(
            tx.conn, user_id=actor.user_id, session_id=actor.session_id, token=token, platform=platform
        )
        if before is None or before.user_id == actor.user_id:
            return
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="device.taken_over",
            resource_type="user",
            resource_id=before.user_id,
            details={"platform": platform},
        )
        if before.session_id is not None:
            await identity.end_session(ctx, tx, session_id=before.session_id, reason="device_taken")


async def forget_devices(tx: Tx, tokens: list[str]) -> None:
    """Phones FCM says the app is gone from."""
    if tokens:
        await repo.forget_devices(tx.conn, tokens)


# Unsubscribing ---------------------------------------------------------------------


def _mac(ctx: AppState, user_id: uuid.UUID) -> str:
    digest = hmac.new(ctx.settings.jwt_secret.encode(), b"unsubscribe:" + user_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def unsubscribe_url(ctx: AppState, user_id: uuid.UUID) -> str:
    return f"{ctx.settings.base_url}/v1/unsubscribe/{user_id.hex}.{_mac(ctx, user_id)}"


def _holder(ctx: AppState, token: str) -> uuid.UUID:
    wrong = NotFound("This unsubscribe link is not valid.", code="invalid_unsubscribe_link")
    user_hex, _, mac = token.partition(".")
    try:
        user_id = uuid.UUID(hex=user_hex)
    except ValueError:
        raise wrong from None
    if not hmac.compare_digest(mac, _mac(ctx, user_id)):
        raise wrong
    return user_id


async def check_unsubscribe(ctx: AppState, token: str) -> None:
    """404 unless `token` is a link this server made."""
    _holder(ctx, token)


async def unsubscribe(ctx: AppState, token: str) -> None:
    """Turn promotions off for the link's holder (again is fine)."""
    user_id = _holder(ctx, token)
    async with ctx.db.transaction() as tx:
        before = await repo.preferences(tx.conn, user_id)
        if not before.promotions:
            return  # out already, or an account that kept no preferences (a deleted one's go with it)
        await repo.set_preferences(tx.conn, user_id, {"promotions": False})
        await audit.record(
            tx.conn, actor_id=user_id, action="promotions.unsubscribed", resource_type="user", resource_id=user_id
        )
