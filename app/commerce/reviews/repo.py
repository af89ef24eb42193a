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


# Each sort as (its first key, the direction of all three keys: first, created_at, id); by time alone, the
# first key is the same for all (an expression, which ORDER BY does not read as a column's position).
SORTS = {
    "newest": ("0::integer", "DESC"),
    "oldest": ("0::integer", "ASC"),
    "highest": ("r.rating", "DESC"),
    "lowest": ("r.rating", "ASC"),
}


async def of_product(
    conn: asyncpg.Connection,
    *,
    product_id: uuid.UUID,
    rating: int | None,
    with_text: bool | None,
    sort: str,
    after: tuple[int, dt.datetime, uuid.UUID] | None,
    limit: int,
) -> list[tuple[Review, int]]:
    """One page of a product's reviews, each with its first sort key (for the cursor)."""
    first, direction = SORTS[sort]
    compare = "<" if direction == "DESC" else ">"
    rows = await conn.fetch(
        f"""SELECT {_REVIEW}, {first} AS sort_key FROM product_reviews r LEFT JOIN users u ON u.id = r.user_id
            WHERE r.product_id = $1 AND ($2::integer IS NULL OR r.rating = $2)
              AND ($3::boolean IS NULL OR (r.body IS NOT NULL AND r.body <> '') = $3)
              AND ($4::integer IS NULL OR ({first}, r.created_at, r.id) {compare} ($4, $5, $6::uuid))
            ORDER BY {first} {direction}, r.created_at {direction}, r.id {direction} LIMIT $7""",
        product_id,
        rating,
        with_text,
        *(after if after is not None else (None, None, None)),
        limit + 1,
    )
    return [(Review(**{k: r[k] for k in Review.__slots__}), r["sort_key"]) for r in rows]  # type: ignore[attr-defined]
