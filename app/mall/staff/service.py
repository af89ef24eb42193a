"""The mall's staff: who holds a role at a mall or at one of its shops, with their photo, where they
work and whether they are on shift. The mall's admins and security read it (security assigns issues to
these people); a person reads their own record. People and roles belong to identity, shifts to
attendance: this area only puts them side by side."""

from __future__ import annotations

import uuid
from typing import Any

from app.identity.people import service as people
from app.mall.attendance import service as attendance
from app.mall.places import service as places
from app.mall.rooms import MALL, SHOP
from app.mall.staff.schemas import Employee, HeldRole, StaffQuery, StaffRole
from app.platform.http import NotFound, Unprocessable
from app.platform.pagination import decode_position, encode_position, page
from app.platform.security.permissions import Principal, require
from app.platform.state import AppState

READERS = ("mall_admin", "security")
WORKED_DAYS = 30


async def list_staff(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID, q: StaffQuery) -> dict[str, Any]:
    after = decode_position(q.cursor, str, uuid.UUID)
    async with ctx.db.connection() as conn:
        if await places.mall_of(conn, mall_id) is None:
            raise NotFound("No such mall.")
        require(actor, READERS, MALL, mall_id)
        place = (MALL, mall_id)
        if q.shop_id is not None:
            shop = await places.shop_of(conn, q.shop_id)
            if shop is None or shop.mall_id != mall_id:
                raise Unprocessable("The shop is not one of the mall's.", code="shop_not_in_mall")
            place = (SHOP, shop.id)
        found = await people.holders_within(
            conn, scope_type=place[0], scope_id=place[1], role=q.role, after=after, limit=q.limit
        )
        holders = [holder for holder, _ in found[: q.limit]]
        shops = await places.describe_shops(conn, sorted({h.scope_id for h in holders if h.scope_type == SHOP}))
        working = await attendance.on_shift(conn, mall_id=mall_id, user_ids=sorted({h.user_id for h in holders}))
    listed = page(found, q.limit, lambda pair: (pair[1], pair[0].id), encode_position)
    listed["items"] = [
        StaffRole(
            user_id=h.user_id,
            name=h.name,
            image_url=h.image_url,
            phone=h.phone,
            email=h.email,
            disabled=h.disabled,
            role=h.role,
            shop_id=h.scope_id if h.scope_type == SHOP else None,
            shop_name=shops[h.scope_id].name if h.scope_type == SHOP and h.scope_id in shops else None,
            on_shift=h.user_id in working,
            since=h.created_at,
        )
        for h, _ in listed["items"]
    ]
    return listed


async def employee(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID, user_id: uuid.UUID) -> Employee:
    """404 for someone who holds no role at the mall, and for a caller who may not read the staff."""
    if user_id != actor.user_id and not actor.has(READERS, MALL, mall_id):
        raise NotFound("No such employee.")
    async with ctx.db.connection() as conn:
        mall = await places.mall_of(conn, mall_id)
        person = await people.person(conn, user_id)
        if mall is None or person is None:
            raise NotFound("No such employee.")
        shop_ids = sorted({r.scope_id for r in person.roles if r.scope_type == SHOP and r.scope_id is not None})
        shops = {
            i: place
            for i, place in (await places.describe_shops(conn, shop_ids)).items()
            if any(ref.kind == MALL and ref.id == mall_id for ref in place.within)
        }
        roles = [
            HeldRole(
                r.role,
                r.scope_id if r.scope_type == SHOP else None,
                shops[r.scope_id].name if r.scope_type == SHOP else None,
            )
            for r in person.roles
            if (r.scope_type == MALL and r.scope_id == mall_id) or (r.scope_type == SHOP and r.scope_id in shops)
        ]
        if not roles:
            raise NotFound("No such employee.")
        shift = await attendance.open_shift(conn, user_id)
        worked = await attendance.worked(
            conn, user_id=user_id, mall_id=mall_id, timezone=mall.timezone, days=WORKED_DAYS
        )
    return Employee(
        user_id=person.id,
        name=person.name,
        image_url=person.image_url,
        phone=person.phone,
        email=person.email,
        disabled=person.disabled,
        roles=roles,
        shift=shift if shift is not None and shift.mall_id == mall_id else None,
        last_30_days=worked,
    )
