"""The commerce configuration (the tax rate, the loyalty rates, and flags for loyalty, online payment and
pre-orders):
global values with per-shop overrides; anyone signed in reads what applies, admins change it, and every
change is audited. A shop's currency and opening hours are read here too, but they belong to the mall
domain (a mall has one currency for its tickets and its shops; a shop's manager keeps its hours)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass

import asyncpg

from app.commerce.config import repo
from app.commerce.config.schemas import ConfigPatch
from app.mall.places import service as places
from app.platform import audit
from app.platform.http import Unprocessable
from app.platform.security.permissions import Principal, require_admin
from app.platform.state import AppState


async def settings_at(conn: asyncpg.Connection, shop_id: uuid.UUID | None) -> repo.Settings:
    """What applies at a shop, for the orders priced there."""
    return await repo.effective(conn, shop_id)


@dataclass(frozen=True, slots=True)
class Applied:
    """The configuration as a shop's customers meet it: the settings, and for a shop its mall's currency,
    its opening hours and whether it is open now by them (null globally, or for a shop without hours)."""

    shop_id: uuid.UUID | None
    tax_rate_bp: int
    loyalty_earn_bp: int
    loyalty_redeem_max_bp: int
    loyalty_enabled: bool
    online_payments_enabled: bool
    pre_orders_enabled: bool
    currency: str | None
    opening_hours: places.OpeningHours | None
    open_now: bool | None


async def _applied(conn: asyncpg.Connection, shop_id: uuid.UUID | None) -> Applied:
    settings = await repo.effective(conn, shop_id)
    currency, hours, open_now = None, None, None
    if shop_id is not None:
        shop, mall = await places.shop_and_mall(conn, shop_id)
        currency, hours, open_now = mall.currency, shop.hours, places.is_open(shop, mall, dt.datetime.now(dt.UTC))
    return Applied(**asdict(settings), currency=currency, opening_hours=hours, open_now=open_now)


async def read(ctx: AppState, *, shop_id: uuid.UUID | None) -> Applied:
    async with ctx.db.connection() as conn:
        return await _applied(conn, shop_id)


async def change(ctx: AppState, *, actor: Principal, data: ConfigPatch) -> Applied:
    require_admin(actor)
    changes = {name: getattr(data, name) for name in data.model_fields_set if name in repo.COLUMNS}
    async with ctx.db.transaction() as tx:
        where = None
        if data.shop_id is None:
            unset = sorted(name for name, value in changes.items() if value is None)
            if unset:
                raise Unprocessable(
                    "A global value cannot be left unset.",
                    details=[{"field": name, "message": "required globally", "type": "missing"} for name in unset],
                )
            if changes:
                await repo.set_global(tx.conn, changes=changes, by=actor.user_id)
        else:
            where = places.place_of(await places.existing_shop(tx.conn, data.shop_id))
            if changes:
                await repo.set_for_shop(tx.conn, shop_id=data.shop_id, changes=changes, by=actor.user_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="commerce_config.changed",
            where=where,
            resource_type="shop" if data.shop_id else "config",
            resource_id=data.shop_id,
            details=data.model_dump(mode="json", exclude_unset=True),
        )
        return await _applied(tx.conn, data.shop_id)
