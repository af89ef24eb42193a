"""Offers: a mall's admins put a discount on some of its shops for a while; anyone signed in sees
which are running now, at the mall or at one shop."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from app.mall.offers import repo
from app.mall.offers.schemas import OfferIn, OfferPatch
from app.mall.places import service as places
from app.mall.rooms import MALL
from app.platform import audit, idempotency
from app.platform.db import Tx
from app.platform.http import NotFound, Unprocessable
from app.platform.pagination import Cursor
from app.platform.security.permissions import Principal, require
from app.platform.security.scopes import Scope
from app.platform.state import AppState


async def create_offer(
    ctx: AppState, *, actor: Principal, data: OfferIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    async def work(tx: Tx) -> repo.Offer:
        offer = await repo.insert(
            tx.conn,
            mall_id=data.mall_id,
            title=data.title,
            description=data.description,
            discount_percent=data.discount_percent,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            shop_ids=data.shop_ids,
        )
        if offer is None:
            raise Unprocessable("Every shop must be one of the mall's.", code="unknown_shop")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, data.mall_id),
            action="offer.created",
            resource_type="offer",
            resource_id=offer.id,
        )
        return offer

    async with ctx.db.transaction() as tx:
        await places.require_mall_admin(tx.conn, actor, data.mall_id)
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def list_offers(
    ctx: AppState, *, mall_id: uuid.UUID, shop_id: uuid.UUID | None, active: bool | None, after: Cursor, limit: int
) -> list[repo.Offer]:
    async with ctx.db.connection() as conn:
        return await repo.list_offers(conn, mall_id=mall_id, shop_id=shop_id, active=active, after=after, limit=limit)


async def best_running_at(conn: asyncpg.Connection, shop_id: uuid.UUID) -> repo.Offer | None:
    """The discount a shop's prices get now, for the domains that price what the shops sell."""
    return await repo.best_running_at(conn, shop_id)


async def get_offer(ctx: AppState, offer_id: uuid.UUID) -> repo.Offer:
    async with ctx.db.connection() as conn:
        offer = await repo.get(conn, offer_id)
    if offer is None:
        raise NotFound("No such offer.")
    return offer


async def update_offer(ctx: AppState, *, actor: Principal, offer_id: uuid.UUID, data: OfferPatch) -> repo.Offer:
    """Change what was sent (the mall's admins): a running offer can be extended, or moved to other shops."""
    changes = {name: getattr(data, name) for name in data.model_fields_set if name in repo.COLUMNS}
    shop_ids = data.shop_ids if "shop_ids" in data.model_fields_set else None
    async with ctx.db.transaction() as tx:
        offer = await repo.get(tx.conn, offer_id)
        if offer is None:
            raise NotFound("No such offer.")
        require(actor, places.MALL_ADMINS, MALL, offer.mall_id)
        try:
            updated = await repo.update(tx.conn, offer, changes, shop_ids)
        except asyncpg.CheckViolationError:
            raise Unprocessable(
                "The offer would end before it starts.",
                code="invalid_range",
                details={
                    "starts_at": changes.get("starts_at", offer.starts_at),
                    "ends_at": changes.get("ends_at", offer.ends_at),
                },
            ) from None
        if updated is None:
            raise Unprocessable("Every shop must be one of the mall's.", code="unknown_shop")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, offer.mall_id),
            action="offer.updated",
            resource_type="offer",
            resource_id=offer_id,
            details={"fields": sorted(data.model_fields_set)},
        )
        return updated


async def delete_offer(ctx: AppState, *, actor: Principal, offer_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        offer = await repo.get(tx.conn, offer_id)
        if offer is None:
            raise NotFound("No such offer.")
        require(actor, places.MALL_ADMINS, MALL, offer.mall_id)
        await repo.delete(tx.conn, offer_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, offer.mall_id),
            action="offer.deleted",
            resource_type="offer",
            resource_id=offer_id,
        )
