"""Reviews: a customer who received a product (a completed order of theirs holds it) rates it once, 1 to 5,
with a few words; anyone signed in reads them (by rating, with words or without, newest, oldest, highest
or lowest first), and the product shows their average and count."""

from __future__ import annotations

import uuid
from typing import Any

from app.commerce.catalogue import service as catalogue
from app.commerce.orders import service as orders
from app.commerce.reviews import repo
from app.commerce.reviews.schemas import ReviewIn, ReviewsQuery
from app.platform.http import Conflict, Forbidden
from app.platform.pagination import decode_position, encode_position, instant, page, sort_named
from app.platform.security.permissions import Principal
from app.platform.state import AppState


async def review(ctx: AppState, *, actor: Principal, product_id: uuid.UUID, data: ReviewIn) -> repo.Review:
    product = await catalogue.get_product(ctx, actor=actor, product_id=product_id)
    async with ctx.db.transaction() as tx:
        if not await orders.received(tx.conn, customer_id=actor.user_id, product_id=product_id):
            raise Forbidden("Only a customer who received this product reviews it.", code="not_received")
        made = await repo.insert(
            tx.conn, product_id=product_id, user_id=actor.user_id, rating=data.rating, body=data.body
        )
        if made is None:
            raise Conflict("You have reviewed this product already.", code="already_reviewed")
        catalogue.shown_changed(tx, product.shop_id)  # its rating and count
        return made


async def reviews(ctx: AppState, *, actor: Principal, product_id: uuid.UUID, q: ReviewsQuery) -> dict[str, Any]:
    """One page of a product's reviews, filtered and sorted; a cursor holds the sort it was made for."""
    position = decode_position(q.cursor, sort_named(q.sort), int, instant, uuid.UUID)
    await catalogue.get_product(ctx, actor=actor, product_id=product_id)
    async with ctx.db.connection() as conn:
        found = await repo.of_product(
            conn,
            product_id=product_id,
            rating=q.rating,
            with_text=q.with_text,
            sort=q.sort,
            after=position[1:] if position else None,  # type: ignore[arg-type]
            limit=q.limit,
        )
    listed = page(
        found, q.limit, lambda pair: (q.sort, pair[1], pair[0].created_at.isoformat(), pair[0].id), encode_position
    )
    return {**listed, "items": [review for review, _ in listed["items"]]}
