"""SQL for reviews, and the rating count and sum their product keeps."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Review:
    id: uuid.UUID
    product_id: uuid.UUID
    user_id: uuid.UUID | None
    author: str | None
    rating: int
    body: str | None
    created_at: dt.datetime


_REVIEW = "r.id, r.product_id, r.user_id, u.name AS author, r.rating, r.body, r.created_at"


async def insert(
    conn: asyncpg.Connection, *, product_id: uuid.UUID, user_id: uuid.UUID, rating: int, body: str | None
) -> Review | None:
    """The new review, with the product's count and sum updated; None when this customer reviewed it before."""
    review_id = await conn.fetchval(
        """WITH r AS (INSERT INTO product_reviews (product_id, user_id, rating, body) VALUES ($1, $2, $3, $4)
                      ON CONFLICT (product_id, user_id) DO NOTHING RETURNING id, rating),
                p AS (UPDATE products SET rating_count = rating_count + 1, rating_sum = rating_sum + r.rating
                      FROM r WHERE products.id = $1)
           SELECT id FROM r""",
        product_id,
        user_id,
        rating,
        body,
    )
    return await get(conn, review_id) if review_id else None


async def get(conn: asyncpg.Connection, review_id: uuid.UUID) -> Review | None:
    row = await conn.fetchrow(
        f"SELECT {_REVIEW} FROM product_reviews r LEFT JOIN users u ON u.id = r.user_id WHERE r.id = $1", review_id
    )
    return Review(**dict(row)) if row else None


async def of_product(
    conn: asyncpg.Connection, *, product_id: uuid.UUID, after: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[Review]:
    rows = await conn.fetch(
        f"""SELECT {_REVIEW} FROM product_reviews r LEFT JOIN users u ON u.id = r.user_id
            WHERE r.product_id = $1 AND ($2::timestamptz IS NULL OR (r.created_at, r.id) < ($2, $3))
            ORDER BY r.created_at DESC, r.id DESC LIMIT $4""",
        product_id,
        *(after if after is not None else (None, None)),
        limit + 1,
    )
    return [Review(**dict(r)) for r in rows]
