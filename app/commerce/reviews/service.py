"""Reviews: a customer who received a product (a completed order of theirs holds it) rates it once, 1 to 5,
with a few words; anyone signed in reads them, and the product shows their average and count."""

from __future__ import annotations

import uuid
from typing import Any

from app.commerce.catalogue import service as catalogue
from app.commerce.orders import service as orders
from app.commerce.reviews import repo
from app.commerce.reviews.schemas import ReviewIn
from app.platform.http import Conflict, Forbidden
from app.platform.pagination import Cursor, page
from app.platform.security.permissions import Principal
from app.platform.state import AppState


async def review(ctx: AppState, *, actor: Principal, product_id: uuid.UUID, data: ReviewIn) -> repo.Review:
    await catalogue.get_product(ctx, actor=actor, product_id=product_id)
    async with ctx.db.transaction() as tx:
        if not await orders.received(tx.conn, customer_id=actor.user_id, product_id=product_id):
            raise Forbidden("Only a customer who received this product reviews it.", code="not_received")
        made = await repo.insert(
            tx.conn, product_id=product_id, user_id=actor.user_id, rating=data.rating, body=data.body
        )
        if made is None:
            raise Conflict("You have reviewed this product already.", code="already_reviewed")
        return made


async def reviews(
    ctx: AppState, *, actor: Principal, product_id: uuid.UUID, after: Cursor, limit: int
) -> dict[str, Any]:
    await catalogue.get_product(ctx, actor=actor, product_id=product_id)
    async with ctx.db.connection() as conn:
        found = await repo.of_product(conn, product_id=product_id, after=after, limit=limit)
    return page(found, limit, lambda r: (r.created_at, r.id))
