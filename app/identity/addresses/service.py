"""A person's saved delivery addresses, theirs alone: at most `repo.MOST`, and while there are any, exactly
one is the default (the first one added is; making another the default moves it; deleting the default
passes it to the oldest left). Each person's changes are serialised on their own row, so two at once
cannot leave two defaults or none."""

from __future__ import annotations

import uuid

import asyncpg

from app.identity.addresses import repo
from app.identity.addresses.schemas import AddressIn, AddressPatch
from app.platform.http import Conflict, NotFound
from app.platform.security.permissions import Principal
from app.platform.state import AppState


async def listed(ctx: AppState, *, actor: Principal) -> list[repo.Address]:
    async with ctx.db.connection() as conn:
        return await repo.of_user(conn, actor.user_id)


async def add(ctx: AppState, *, actor: Principal, data: AddressIn) -> repo.Address:
    async with ctx.db.transaction() as tx:
        kept = await repo.of_user(tx.conn, actor.user_id, lock=True)
        if len(kept) >= repo.MOST:
            raise Conflict(f"You keep {repo.MOST} addresses already; delete one first.", code="too_many_addresses")
        fields = data.model_dump()
        fields["is_default"] = data.is_default or not kept
        if fields["is_default"]:
            await repo.drop_default(tx.conn, actor.user_id)
        return await repo.insert(tx.conn, actor.user_id, fields)


async def change(ctx: AppState, *, actor: Principal, address_id: uuid.UUID, data: AddressPatch) -> repo.Address:
    changes = {name: getattr(data, name) for name in data.model_fields_set if name != "is_default"}
    async with ctx.db.transaction() as tx:
        kept = {a.id: a for a in await repo.of_user(tx.conn, actor.user_id, lock=True)}
        address = kept.get(address_id)
        if address is None:
            raise NotFound("No such address.")
        if "is_default" in data.model_fields_set and data.is_default != address.is_default:
            if not data.is_default:
                raise Conflict("Make another address the default instead.", code="default_needed")
            await repo.drop_default(tx.conn, actor.user_id)
            changes["is_default"] = True
        updated = await repo.update(tx.conn, actor.user_id, address_id, changes)
        assert updated is not None, "found and locked in this transaction"
        return updated


async def remove(ctx: AppState, *, actor: Principal, address_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        await repo.of_user(tx.conn, actor.user_id, lock=True)
        gone = await repo.delete(tx.conn, actor.user_id, address_id)
        if gone is None:
            raise NotFound("No such address.")
        left = await repo.of_user(tx.conn, actor.user_id)
        if gone.is_default and left:
            await repo.make_default(tx.conn, min(left, key=lambda a: (a.created_at, a.id)).id)


async def saved_address(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, address_id: uuid.UUID | None
) -> repo.Address | None:
    """For other domains (an order's delivery): one of the person's saved addresses, or their default when
    `address_id` is None; None when there is no such address."""
    for address in await repo.of_user(conn, user_id):
        if address.id == address_id or (address_id is None and address.is_default):
            return address
    return None
