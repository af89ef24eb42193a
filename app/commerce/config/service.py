"""The commerce configuration (the tax rate and the loyalty rates): global values with per-shop overrides;
anyone signed in reads what applies, admins change it, and every change is audited."""

from __future__ import annotations

import uuid

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


async def read(ctx: AppState, *, shop_id: uuid.UUID | None) -> repo.Settings:
    async with ctx.db.connection() as conn:
        if shop_id is not None:
            await places.existing_shop(conn, shop_id)
        return await repo.effective(conn, shop_id)


async def change(ctx: AppState, *, actor: Principal, data: ConfigPatch) -> repo.Settings:
    require_admin(actor)
    changes = {name: getattr(data, name) for name in data.model_fields_set if name in repo.COLUMNS}
    async with ctx.db.transaction() as tx:
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
            await places.existing_shop(tx.conn, data.shop_id)
            if changes:
                await repo.set_for_shop(tx.conn, shop_id=data.shop_id, changes=changes, by=actor.user_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="commerce_config.changed",
            resource_type="shop" if data.shop_id else "config",
            resource_id=data.shop_id,
            details=data.model_dump(mode="json", exclude_unset=True),
        )
        return await repo.effective(tx.conn, data.shop_id)
