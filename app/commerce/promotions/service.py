"""Promotions: a shop's manager (or its mall's admins) writes to the shop's customers, and only those who
opted in to promotions hear of it, by e-mail with a link that unsubscribes them without signing in.

Sending is a job. Who is opted in is read again as it sends, so someone who unsubscribed after the
promotion was made is left out; each delivery is logged, and a retry sends only to those not reached.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg

from app.commerce.promotions import repo
from app.commerce.promotions.schemas import PromotionIn
from app.identity.notifications import service as notifications
from app.mall.places import service as places
from app.platform import audit, notify
from app.platform.http import Forbidden
from app.platform.jobs import Job, RetryLater
from app.platform.notify import Attempt, Content
from app.platform.pagination import PageQuery, decode_cursor, page
from app.platform.security.permissions import Principal
from app.platform.security.scopes import Scope
from app.platform.state import AppState

SEND_JOB = "commerce.send_promotion"
TEMPLATE = "promotion"
AT_ONCE = 4  # e-mails in flight together, so one slow SMTP answer does not hold up the rest


async def _managed(conn: asyncpg.Connection, actor: Principal, shop_id: uuid.UUID) -> Scope:
    """The shop as the place its promotions are filed under; 403 unless the caller manages it."""
    shop, _ = await places.shop_and_mall(conn, shop_id)
    if not (
        actor.has("shop_manager", places.SHOP_SCOPE, shop_id)
        or actor.has(places.MALL_ADMINS, places.MALL_SCOPE, shop.mall_id)
    ):
        raise Forbidden("A shop's promotions are for its managers and its mall's admins.")
    return places.place_of(shop)


async def create(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, data: PromotionIn) -> repo.Promotion:
    async with ctx.db.transaction() as tx:
        place = await _managed(tx.conn, actor, shop_id)
        audience = await notifications.recipients(tx.conn, await repo.customers(tx.conn, shop_id), promotions_only=True)
        promotion = await repo.insert(
            tx.conn,
            shop_id=shop_id,
            subject=data.subject,
            body=data.body,
            audience=len(audience),
            created_by=actor.user_id,
        )
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="promotion.created",
            where=place,
            resource_type="promotion",
            resource_id=promotion.id,
            details={"audience": len(audience)},
        )
        await ctx.jobs.enqueue(tx, SEND_JOB, {"promotion_id": str(promotion.id)})
        return promotion


async def listed(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, q: PageQuery) -> dict[str, Any]:
    async with ctx.db.connection() as conn:
        await _managed(conn, actor, shop_id)
        items = await repo.of_shop(conn, shop_id, after=decode_cursor(q.cursor), limit=q.limit)
    return page(items, q.limit, lambda p: (p.created_at, p.id))


async def send(ctx: AppState, payload: dict[str, Any]) -> None:
    """The job: the promotion to every opted-in customer it has not reached yet."""
    promotion_id = uuid.UUID(payload["promotion_id"])
    async with ctx.db.connection() as conn:
        promotion = await repo.get(conn, promotion_id)
        if promotion is None or promotion.status == "sent":
            return
        shop, _ = await places.shop_and_mall(conn, promotion.shop_id)
        audience = await notifications.recipients(
            conn, await repo.customers(conn, promotion.shop_id), promotions_only=True
        )
        done = await notify.reached(conn, TEMPLATE, str(promotion_id), TEMPLATE)
    waiting = [r for r in audience if r.email and ("email", r.email) not in done]

    async def one(person: notifications.Recipient) -> Attempt:
        assert person.email is not None
        link = notifications.unsubscribe_url(ctx, person.user_id)
        content = Content(
            subject=f"{shop.name}: {promotion.subject}",
            text=f"{promotion.body}\n\n-- \n{shop.name}\nYou get this because you opted in to promotions. "
            f"Unsubscribe: {link}",
            unsubscribe_url=link,
        )
        data = {"shop": shop.name, "subject": promotion.subject, "body": promotion.body, "unsubscribe_url": link}
        outcome = await ctx.notifier.send(
            channel="email", to=person.email, template=TEMPLATE, data=data, content=content
        )
        return Attempt(person.user_id, "email", person.email, TEMPLATE, TEMPLATE, str(promotion_id), outcome)

    failed = 0
    for start in range(0, len(waiting), AT_ONCE):
        attempts = await asyncio.gather(*(one(p) for p in waiting[start : start + AT_ONCE]))
        failed += sum(a.outcome == "failed" for a in attempts)
        async with ctx.db.transaction() as tx:
            await notify.record(tx.conn, list(attempts))
    if failed:
        raise RetryLater(f"{failed} promotion e-mails did not go")
    async with ctx.db.transaction() as tx:
        await repo.mark_sent(tx.conn, promotion_id)


JOBS = [Job(SEND_JOB, send, max_attempts=6, backoff=30.0, timeout=600.0)]
