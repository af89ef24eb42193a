"""Telling a customer of their order off the app: an e-mail and a push to each of their phones at every
status, as a durable job queued with the change (`orders.NEWS_JOB`), so news is neither lost with a worker
nor sent for a change that rolled back.

What the customer turned off is not sent. Every attempt is logged in `notification_logs`; a retry sends
only what has not gone yet (an e-mail, or the phones not reached), so nobody hears the same news twice
because another channel failed. The paid e-mail carries the receipt.
"""

from __future__ import annotations

import uuid
from typing import Any

from app.commerce.notices import messages
from app.commerce.orders import repo as orders_repo
from app.commerce.orders.service import NEWS_JOB
from app.commerce.receipts import service as receipts
from app.identity.notifications import service as notifications
from app.mall.places import service as places
from app.platform import notify
from app.platform.http import ApiError
from app.platform.jobs import Job, RetryLater
from app.platform.notify import Attachment, Attempt, Content
from app.platform.state import AppState


async def order_news(ctx: AppState, payload: dict[str, Any]) -> None:
    order_id, status = uuid.UUID(payload["order_id"]), payload["status"]
    template = f"order_{status}"
    async with ctx.db.connection() as conn:
        order = await orders_repo.get(conn, order_id)
        if order is None or order.customer_id is None or status not in messages.NEWS:
            return
        shop, _ = await places.shop_and_mall(conn, order.shop_id)
        found = await notifications.recipients(conn, [order.customer_id])
        done = await notify.reached(conn, "order", str(order_id), template)
        if not found:
            return  # the account is gone or disabled
        person = found[0]
        email = person.email if person.preferences.order_emails and ("email", person.email) not in done else None
        receipt = None
        if email and status == "paid":
            try:
                receipt = Attachment(f"receipt-{order_id}.pdf", "application/pdf", await receipts.pdf_of(conn, order))
            except ApiError:
                receipt = None  # refunded meanwhile: the news goes without it
    attempts: list[Attempt] = []
    failed = False
    if email:
        content = Content(
            subject=messages.subject(order, shop.name, status),
            text=messages.email_text(
                order, shop.name, status, name=person.name, receipt_url=receipts.url(ctx, order.id) if receipt else None
            ),
            attachments=(receipt,) if receipt else (),
        )
        data = {"order_id": str(order.id), "status": status, "shop": shop.name, "total": order.total}
        outcome = await ctx.notifier.send(channel="email", to=email, template=template, data=data, content=content)
        attempts.append(Attempt(person.user_id, "email", email, template, "order", str(order.id), outcome))
        failed = outcome == "failed"
    phones = [t for t in person.devices if ("push", t[-16:]) not in done] if person.preferences.order_pushes else []
    results = await ctx.pusher.send(
        phones,
        title=messages.subject(order, shop.name, status),
        body=messages.sentence(order, status),
        data={"type": "order_status", "order_id": str(order.id), "status": status},
    )
    attempts += [
        Attempt(person.user_id, "push", r.token[-16:], template, "order", str(order.id), r.outcome, r.error)
        for r in results
    ]
    async with ctx.db.transaction() as tx:
        await notify.record(tx.conn, attempts)
        await notifications.forget_devices(tx, [r.token for r in results if r.unregistered])
    if failed or any(r.retryable for r in results):
        raise RetryLater("an e-mail or a push about the order did not go")


JOBS = [Job(NEWS_JOB, order_news, max_attempts=6, backoff=5.0)]
