"""A shop's customer records: the staff keep people served at the counter who have no account (the cafe's
regulars) with their phone, e-mail and loyalty points, and later link a record to that person's account.

Linking is the staff's act, with the person at the counter: the account must have the record's e-mail
address or phone number, and exactly one may. Sign-up proves neither, so a record is never linked just
because someone signed up with its number. Once linked, the record's orders are the account's and its
points move there (`transfer` moves in both ledgers); the record stays, with its note, as the shop's.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from app.commerce.customers import repo
from app.commerce.customers.schemas import CustomerIn, CustomerPatch, CustomersQuery
from app.commerce.loyalty import service as loyalty
from app.identity.people import service as people
from app.mall.places import service as places
from app.platform import audit
from app.platform.http import Conflict, NotFound, Unprocessable
from app.platform.pagination import decode_position, encode_position
from app.platform.security.permissions import Principal, require
from app.platform.state import AppState

STAFF = ("shop_manager", "employee")


def _duplicate(exc: asyncpg.UniqueViolationError) -> Conflict:
    field = "phone" if "phone" in (exc.constraint_name or "") else "email"
    return Conflict(
        f"The shop keeps a customer with this {field} already.", code="duplicate_customer", details={"field": field}
    )


async def find(conn: asyncpg.Connection, shop_id: uuid.UUID, customer_id: uuid.UUID) -> repo.Customer | None:
    """For the shop's other parts, which check the caller themselves."""
    return await repo.get(conn, shop_id, customer_id)


async def record_at(conn: asyncpg.Connection, shop_id: uuid.UUID, customer_id: uuid.UUID) -> repo.Customer:
    """For orders: the shop's record, or 422 `unknown_customer`."""
    found = await repo.get(conn, shop_id, customer_id)
    if found is None:
        raise Unprocessable(
            "The shop keeps no such customer.",
            code="unknown_customer",
            details=[{"field": "shop_customer_id", "message": "no such customer at this shop", "type": "invalid"}],
        )
    return found


async def add(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, data: CustomerIn) -> repo.Customer:
    async with ctx.db.transaction() as tx:
        shop, _ = await places.shop_and_mall(tx.conn, shop_id)
        require(actor, STAFF, places.SHOP_SCOPE, shop_id)
        try:
            customer_id = await repo.insert(
                tx.conn, shop_id=shop_id, fields=data.model_dump(mode="json"), created_by=actor.user_id
            )
        except asyncpg.UniqueViolationError as exc:
            raise _duplicate(exc) from None
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="shop_customer.created",
            where=places.place_of(shop),
            resource_type="shop_customer",
            resource_id=customer_id,
        )
        created = await repo.get(tx.conn, shop_id, customer_id)
        assert created is not None, "written in this transaction"
        return created


async def listed(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, q: CustomersQuery) -> dict[str, Any]:
    require(actor, STAFF, places.SHOP_SCOPE, shop_id)
    after = decode_position(q.cursor, str, uuid.UUID)
    async with ctx.db.connection() as conn:
        await places.shop_and_mall(conn, shop_id)
        found = await repo.search(conn, shop_id=shop_id, q=q.q, after=after, limit=q.limit)  # type: ignore[arg-type]
    shown = found[: q.limit]
    more = len(found) > q.limit
    return {"items": shown, "next_cursor": encode_position(shown[-1].name.lower(), shown[-1].id) if more else None}


async def get(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, customer_id: uuid.UUID) -> repo.Customer:
    require(actor, STAFF, places.SHOP_SCOPE, shop_id)
    async with ctx.db.connection() as conn:
        found = await repo.get(conn, shop_id, customer_id)
    if found is None:
        raise NotFound("No such customer.")
    return found


async def change(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, customer_id: uuid.UUID, data: CustomerPatch
) -> repo.Customer:
    require(actor, STAFF, places.SHOP_SCOPE, shop_id)
    changes = data.model_dump(mode="json", include=data.model_fields_set)
    async with ctx.db.transaction() as tx:
        if await repo.get(tx.conn, shop_id, customer_id, lock=True) is None:
            raise NotFound("No such customer.")
        if changes:
            try:
                await repo.update(tx.conn, customer_id, changes)
            except asyncpg.UniqueViolationError as exc:
                raise _duplicate(exc) from None
        updated = await repo.get(tx.conn, shop_id, customer_id)
        assert updated is not None, "locked in this transaction"
        return updated


async def link(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, customer_id: uuid.UUID) -> repo.Customer:
    """Link the record to the one account with its e-mail or phone: 409 `already_linked`, `no_account`,
    `ambiguous_account` (several accounts have them), or `account_has_record` (that account has another
    record here)."""
    require(actor, STAFF, places.SHOP_SCOPE, shop_id)
    async with ctx.db.transaction() as tx:
        record = await repo.get(tx.conn, shop_id, customer_id, lock=True)
        if record is None:
            raise NotFound("No such customer.")
        if record.user_id is not None:
            raise Conflict("The customer is linked to an account already.", code="already_linked")
        accounts = await people.reachable_at(tx.conn, email=record.email, phone=record.phone)
        if not accounts:
            raise Conflict("No account has this customer's e-mail or phone number.", code="no_account")
        if len(accounts) > 1:
            raise Conflict("Several accounts have this customer's e-mail or phone number.", code="ambiguous_account")
        try:
            async with tx.conn.transaction():
                await repo.link(tx.conn, customer_id, accounts[0])
        except asyncpg.UniqueViolationError:
            raise Conflict("That account has another record at this shop.", code="account_has_record") from None
        moved = await loyalty.transfer(tx.conn, record_id=customer_id, user_id=accounts[0], shop_id=shop_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="shop_customer.linked",
            where=await places.shop_scope(tx.conn, shop_id),
            resource_type="shop_customer",
            resource_id=customer_id,
            details={"user_id": str(accounts[0]), "points": moved},
        )
        linked = await repo.get(tx.conn, shop_id, customer_id)
        assert linked is not None, "locked in this transaction"
        return linked
