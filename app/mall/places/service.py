"""Malls and their shops: admins open malls; a mall's admins run its shops and its tariff; anyone
signed in may browse them (customers look for a shop, staff for theirs)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import asyncpg

from app.mall.places import repo
from app.mall.places.schemas import MallIn, MallPatch, ShopIn, ShopPatch
from app.mall.rooms import MALL, SHOP, shop_room
from app.platform import audit, idempotency
from app.platform.db import Tx
from app.platform.http import Conflict, NotFound
from app.platform.pagination import Cursor
from app.platform.security.permissions import Principal, require, require_admin
from app.platform.security.scopes import Place, PlaceRef, Scope
from app.platform.state import AppState

MALL_ADMINS = ("mall_admin",)
# The scope (and room) types of a mall and a shop, for the domains that stand on the mall's shops.
MALL_SCOPE, SHOP_SCOPE = MALL, SHOP
OpeningHours = repo.OpeningHours


def room_of_shop(shop_id: uuid.UUID) -> str:
    """The room of a shop's staff (and its mall's admins), for the domains that tell them things."""
    return shop_room(shop_id)


async def create_mall(
    ctx: AppState, *, actor: Principal, data: MallIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """A new mall (admins only)."""
    require_admin(actor)

    async def work(tx: Tx) -> repo.Mall:
        mall = await repo.insert_mall(
            tx.conn,
            name=data.name,
            address=data.address,
            timezone=data.timezone,
            currency=data.currency,
            parking=data.parking,
        )
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, mall.id),
            action="mall.created",
            resource_type="mall",
            resource_id=mall.id,
        )
        return mall

    async with ctx.db.transaction() as tx:
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def list_malls(ctx: AppState, *, after: Cursor, limit: int) -> list[repo.Mall]:
    async with ctx.db.connection() as conn:
        return await repo.list_malls(conn, after=after, limit=limit)


async def get_mall(ctx: AppState, mall_id: uuid.UUID) -> repo.Mall:
    async with ctx.db.connection() as conn:
        found = await repo.get_mall(conn, mall_id)
    if found is None:
        raise NotFound("No such mall.")
    return found


async def update_mall(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID, data: MallPatch) -> repo.Mall:
    """Change what was sent, for the mall's admins."""
    changes: dict[str, Any] = {
        repo.MALL_COLUMNS[name]: getattr(data, name) for name in data.model_fields_set if name in repo.MALL_COLUMNS
    }
    if "parking" in data.model_fields_set:
        changes |= {
            "parking_free_minutes": data.parking.free_minutes,
            "parking_hourly_price": data.parking.hourly_price,
            "parking_daily_cap": data.parking.daily_cap,
        }
    async with ctx.db.transaction() as tx:
        await require_mall_admin(tx.conn, actor, mall_id)
        updated = await repo.update_mall(tx.conn, mall_id, changes)
        assert updated is not None, "the mall was found in this transaction"
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, mall_id),
            action="mall.updated",
            resource_type="mall",
            resource_id=mall_id,
            details={"fields": sorted(data.model_fields_set)},
        )
        return updated


async def delete_mall(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID) -> None:
    """Close a mall down with everything in it (admins only)."""
    require_admin(actor)
    async with ctx.db.transaction() as tx:
        shop_ids = await repo.delete_mall(tx.conn, mall_id)
        if shop_ids is None:
            raise NotFound("No such mall.")
        for shop_id in shop_ids:
            tx.stale(room_of_shop(shop_id))  # what other domains cached of its shops
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, mall_id),
            action="mall.deleted",
            resource_type="mall",
            resource_id=mall_id,
        )


def _shop_fields(data: ShopIn | ShopPatch, names: set[str]) -> dict[str, Any]:
    fields = {repo.SHOP_COLUMNS[name]: getattr(data, name) for name in names if name in repo.SHOP_COLUMNS}
    if "hours" in names:
        fields["opens_at"] = data.hours.opens if data.hours else None
        fields["closes_at"] = data.hours.closes if data.hours else None
    return fields


async def create_shop(
    ctx: AppState, *, actor: Principal, data: ShopIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """A shop in a mall the caller administers."""

    async def work(tx: Tx) -> repo.Shop:
        shop = await repo.insert_shop(
            tx.conn, mall_id=data.mall_id, fields=_shop_fields(data, set(ShopIn.model_fields) - {"mall_id"})
        )
        if shop is None:
            raise Conflict("The mall already has a shop of this name.", code="duplicate_name")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(SHOP, shop.id, {MALL: data.mall_id}),
            action="shop.created",
            resource_type="shop",
            resource_id=shop.id,
        )
        return shop

    async with ctx.db.transaction() as tx:
        await require_mall_admin(tx.conn, actor, data.mall_id)
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def list_shops(
    ctx: AppState, *, mall_id: uuid.UUID, shop_type: str | None, after: Cursor, limit: int
) -> list[repo.Shop]:
    async with ctx.db.connection() as conn:
        return await repo.list_shops(conn, mall_id=mall_id, shop_type=shop_type, after=after, limit=limit)


async def get_shop(ctx: AppState, shop_id: uuid.UUID) -> repo.Shop:
    async with ctx.db.connection() as conn:
        found = await repo.get_shop(conn, shop_id)
    if found is None:
        raise NotFound("No such shop.")
    return found


async def update_shop(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, data: ShopPatch) -> repo.Shop:
    """Change what was sent, for the mall's admins and the shop's managers."""
    async with ctx.db.transaction() as tx:
        mall_id = await repo.mall_of_shop(tx.conn, shop_id)
        if mall_id is None:
            raise NotFound("No such shop.")
        if not actor.has("shop_manager", SHOP, shop_id):
            require(actor, MALL_ADMINS, MALL, mall_id)
        try:
            updated = await repo.update_shop(tx.conn, shop_id, _shop_fields(data, data.model_fields_set))
        except asyncpg.UniqueViolationError:
            raise Conflict("The mall already has a shop of this name.", code="duplicate_name") from None
        assert updated is not None, "the shop was found in this transaction"
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(SHOP, shop_id, {MALL: mall_id}),
            action="shop.updated",
            resource_type="shop",
            resource_id=shop_id,
            details={"fields": sorted(data.model_fields_set)},
        )
        return updated


async def delete_shop(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID) -> None:
    """Remove a shop, for the mall's admins."""
    async with ctx.db.transaction() as tx:
        mall_id = await repo.mall_of_shop(tx.conn, shop_id)
        if mall_id is None:
            raise NotFound("No such shop.")
        require(actor, MALL_ADMINS, MALL, mall_id)
        await repo.delete_shop(tx.conn, shop_id)
        tx.stale(room_of_shop(shop_id))  # what other domains cached of it
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(SHOP, shop_id, {MALL: mall_id}),
            action="shop.deleted",
            resource_type="shop",
            resource_id=shop_id,
        )


async def require_mall_admin(conn: asyncpg.Connection, actor: Principal, mall_id: uuid.UUID) -> None:
    """404 for no such mall, 403 for anyone but its admins: the check every admin-only write of the mall
    starts with, in the caller's transaction."""
    if not await repo.mall_exists(conn, mall_id):
        raise NotFound("No such mall.")
    require(actor, MALL_ADMINS, MALL, mall_id)


async def mall_of(conn: asyncpg.Connection, mall_id: uuid.UUID) -> repo.Mall | None:
    """A mall inside the caller's transaction (None: no such mall), for the mall's other areas."""
    return await repo.get_mall(conn, mall_id)


async def shop_of(conn: asyncpg.Connection, shop_id: uuid.UUID) -> repo.Shop | None:
    """A shop inside the caller's transaction (None: no such shop), for the mall's other areas."""
    return await repo.get_shop(conn, shop_id)


async def existing_shop(conn: asyncpg.Connection, shop_id: uuid.UUID) -> repo.Shop:
    """A shop, for the domains that keep things per shop; 404 for no such shop."""
    shop = await repo.get_shop(conn, shop_id)
    if shop is None:
        raise NotFound("No such shop.")
    return shop


async def shop_and_mall(conn: asyncpg.Connection, shop_id: uuid.UUID) -> tuple[repo.Shop, repo.Mall]:
    """A shop and its mall (its currency, its clock), for the domains that sell in its shops; 404 for no shop."""
    found = await repo.get_shop_and_mall(conn, shop_id)
    if found is None:
        raise NotFound("No such shop.")
    return found


async def mall_scope(conn: asyncpg.Connection, mall_id: uuid.UUID) -> Scope | None:
    """The mall as a scope roles are held on (None: no such mall)."""
    return Scope(MALL, mall_id) if await repo.mall_exists(conn, mall_id) else None


async def shop_scope(conn: asyncpg.Connection, shop_id: uuid.UUID) -> Scope | None:
    """The shop as a scope, inside its mall (None: no such shop)."""
    mall_id = await repo.mall_of_shop(conn, shop_id)
    return None if mall_id is None else Scope(SHOP, shop_id, {MALL: mall_id})


def place_of(shop: repo.Shop) -> Scope:
    """Where a shop is, as the scope things done in it are filed under (its audit rows, say)."""
    return Scope(SHOP, shop.id, {MALL: shop.mall_id})


def is_open(shop: repo.Shop, mall: repo.Mall, at: dt.datetime) -> bool | None:
    """Whether the shop is open at `at` by its hours on the mall's clock (None: it has none): `closes` before
    `opens` runs past midnight, the two the same is round the clock."""
    if shop.hours is None:
        return None
    opens, closes = shop.hours.opens, shop.hours.closes
    now = at.astimezone(zoneinfo.ZoneInfo(mall.timezone)).strftime("%H:%M")
    if opens == closes:
        return True
    if opens < closes:
        return opens <= now < closes
    return now >= opens or now < closes


async def describe_malls(conn: asyncpg.Connection, mall_ids: list[uuid.UUID]) -> dict[uuid.UUID, Place]:
    return {i: Place(i, name) for i, name in (await repo.mall_names(conn, mall_ids)).items()}


async def describe_shops(conn: asyncpg.Connection, shop_ids: list[uuid.UUID]) -> dict[uuid.UUID, Place]:
    """Shops as people name them: the shop, inside its mall."""
    return {
        r["id"]: Place(r["id"], r["name"], (PlaceRef(MALL, r["mall_id"], r["mall"]),))
        for r in await repo.shop_names(conn, shop_ids)
    }
