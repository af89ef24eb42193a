"""Loyalty: a customer earns points at a shop when an order of theirs is paid (a configured share of what it
cost; a point is worth one minor unit) and spends them on a later order there, up to a configured share of
it. Every change is a ledger row with its order; a cancelled order gives back the points it spent and
takes back those it earned (as many as are left). A shop's customer record without an account holds points
too, and hands them to the account it is linked to (`transfer`)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from app.commerce.loyalty import repo
from app.commerce.loyalty.repo import Holder
from app.platform.http import Conflict
from app.platform.pagination import decode_position, encode_position
from app.platform.security.permissions import Principal
from app.platform.state import AppState

__all__ = ["Holder"]


async def spend(
    conn: asyncpg.Connection, *, holder: Holder, shop_id: uuid.UUID, points: int, order_id: uuid.UUID
) -> None:
    """Spend points on an order; 409 `not_enough_points` (and nothing spent) beyond the balance."""
    if (
        await repo.change(conn, holder=holder, shop_id=shop_id, change=-points, kind="redeem", order_id=order_id)
        is None
    ):
        have = await repo.balance(conn, holder=holder, shop_id=shop_id)
        raise Conflict("You do not have that many points here.", code="not_enough_points", details={"balance": have})


async def earn(
    conn: asyncpg.Connection, *, holder: Holder, shop_id: uuid.UUID, points: int, order_id: uuid.UUID
) -> None:
    await repo.change(conn, holder=holder, shop_id=shop_id, change=points, kind="earn", order_id=order_id)


async def undo(
    conn: asyncpg.Connection, *, holder: Holder, shop_id: uuid.UUID, spent: int, earned: int, order_id: uuid.UUID
) -> None:
    """For a cancelled order: give back what it spent, then take back what it earned, as far as the balance
    allows (points already spent elsewhere stay spent; the ledger shows it)."""
    if spent:
        await repo.change(conn, holder=holder, shop_id=shop_id, change=spent, kind="refund", order_id=order_id)
    if earned:
        have = await repo.balance(conn, holder=holder, shop_id=shop_id)
        if min(earned, have):
            await repo.change(
                conn, holder=holder, shop_id=shop_id, change=-min(earned, have), kind="reversal", order_id=order_id
            )


async def balance(conn: asyncpg.Connection, *, holder: Holder, shop_id: uuid.UUID) -> int:
    return await repo.balance(conn, holder=holder, shop_id=shop_id)


async def transfer(conn: asyncpg.Connection, *, record_id: uuid.UUID, user_id: uuid.UUID, shop_id: uuid.UUID) -> int:
    """Move a record's whole balance to the account it is now linked to; returns how many points moved."""
    record = Holder(record_id=record_id)
    points = await repo.balance(conn, holder=record, shop_id=shop_id, lock=True)
    if points:
        await repo.change(conn, holder=record, shop_id=shop_id, change=-points, kind="transfer", order_id=None)
        await repo.change(
            conn, holder=Holder(user_id=user_id), shop_id=shop_id, change=points, kind="transfer", order_id=None
        )
    return points


async def account(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    """The caller's balances; with `shop_id`, that balance and its ledger, newest first."""
    async with ctx.db.connection() as conn:
        if shop_id is None:
            return {"accounts": await repo.accounts(conn, actor.user_id)}
        before = decode_position(cursor, int)
        mine = Holder(user_id=actor.user_id)
        found = await repo.moves(conn, holder=mine, shop_id=shop_id, before=before[0] if before else None, limit=limit)
        have = await repo.balance(conn, holder=mine, shop_id=shop_id)
    shown = found[:limit]
    return {
        "shop_id": shop_id,
        "balance": have,
        "items": shown,
        "next_cursor": encode_position(shown[-1].id) if len(found) > limit else None,
    }
