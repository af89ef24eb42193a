"""Attendance: a shop's staff and the mall's security clock in and out; one open shift each. The
mall's admins and security see the whole mall, a shop's managers their shops, everyone their own."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import asyncpg

from app.mall.attendance import repo
from app.mall.attendance.schemas import ClockInIn
from app.mall.places import service as places
from app.mall.rooms import MALL, SHOP, mall_room, shop_room
from app.platform import idempotency
from app.platform.db import Tx
from app.platform.http import Conflict, Forbidden, NotFound, Unprocessable
from app.platform.pagination import Cursor
from app.platform.security.permissions import Principal
from app.platform.state import AppState

SHOP_STAFF = ("employee", "shop_manager")
MALL_STAFF = ("security",)
MALL_OVERSEERS = ("mall_admin", "security")


async def clock_in(
    ctx: AppState, *, actor: Principal, data: ClockInIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """Open a shift at a shop (its staff) or at the mall (its security); 409 with one open already, but a
    retry with the same Idempotency-Key gets the first answer."""
    if (data.shop_id is None) == (data.mall_id is None):
        raise Unprocessable("Give either shop_id or mall_id.", code="one_place")
    async with ctx.db.transaction() as tx:
        if data.shop_id is not None:
            shop = await places.shop_of(tx.conn, data.shop_id)
            if shop is None:
                raise NotFound("No such shop.")
            if not actor.has(SHOP_STAFF, SHOP, shop.id):
                raise Forbidden("Only the shop's staff clock in there.")
            mall_id = shop.mall_id
        else:
            assert data.mall_id is not None
            if await places.mall_of(tx.conn, data.mall_id) is None:
                raise NotFound("No such mall.")
            if not actor.has(MALL_STAFF, MALL, data.mall_id):
                raise Forbidden("Only the mall's security staff clock in at the mall.")
            mall_id = data.mall_id

        async def work(tx: Tx) -> repo.Shift:
            shift = await repo.clock_in(tx.conn, user_id=actor.user_id, mall_id=mall_id, shop_id=data.shop_id)
            if shift is None:
                open_shift = await repo.open_shift(tx.conn, actor.user_id)
                raise Conflict(
                    "You are clocked in already.",
                    code="already_clocked_in",
                    details={"shift_id": open_shift.id if open_shift else None},
                )
            _announce(ctx, tx, shift)
            return shift

        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def clock_out(ctx: AppState, *, actor: Principal, attempt: idempotency.Attempt) -> tuple[int, Any]:
    """Close the open shift; 409 without one, but a retry with the same Idempotency-Key gets the first answer."""

    async def work(tx: Tx) -> repo.Shift:
        shift = await repo.clock_out(tx.conn, user_id=actor.user_id)
        if shift is None:
            raise Conflict("You are not clocked in.", code="not_clocked_in")
        _announce(ctx, tx, shift)
        return shift

    async with ctx.db.transaction() as tx:
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=200, work=work)


def _announce(ctx: AppState, tx: Tx, shift: repo.Shift) -> None:
    if shift.shop_id is not None:
        ctx.outbox.publish(tx, shop_room(shift.shop_id), "attendance_updated", shift)
    ctx.outbox.publish(tx, mall_room(shift.mall_id), "attendance_updated", shift)


async def attendance(
    ctx: AppState,
    *,
    actor: Principal,
    mall_id: uuid.UUID,
    shop_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    first_day: dt.date | None,
    last_day: dt.date | None,
    after: Cursor,
    limit: int,
) -> list[repo.Shift]:
    """Shifts begun on the days given (on the mall's clock), with minutes worked for closed ones."""
    async with ctx.db.connection() as conn:
        mall = await places.mall_of(conn, mall_id)
        if mall is None:
            raise NotFound("No such mall.")
        zone = zoneinfo.ZoneInfo(mall.timezone)
        last_day = last_day or dt.datetime.now(zone).date()
        first_day = first_day or last_day - dt.timedelta(days=30)
        if last_day < first_day:
            raise Unprocessable("`to` may not be before `from`.", code="invalid_range")
        shop_ids: list[uuid.UUID] | None = [shop_id] if shop_id is not None else None
        if not actor.has(MALL_OVERSEERS, MALL, mall_id):
            managed = actor.scope_ids("shop_manager", SHOP)
            refused = Forbidden("You see your own shifts, and those of the shops you manage.")
            if shop_id is not None and shop_id in managed:
                pass  # anyone's shifts at a shop they manage
            elif shop_id is None and user_id is None and managed:
                shop_ids = sorted(managed)
            elif user_id in (None, actor.user_id):  # their own, at one shop or anywhere
                user_id = actor.user_id
            else:
                raise refused
        return await repo.list_shifts(
            conn,
            mall_id=mall_id,
            shop_ids=shop_ids,
            user_id=user_id,
            since=dt.datetime.combine(first_day, dt.time(), zone),
            until=dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone),
            after=after,
            limit=limit,
        )


async def clocked_in_by_place(ctx: AppState, *, mall_id: uuid.UUID) -> dict[str, list[str]]:
    async with ctx.db.connection() as conn:
        return await repo.clocked_in_by_place(conn, mall_id)


async def open_shift(conn: asyncpg.Connection, user_id: uuid.UUID) -> repo.Shift | None:
    """For the mall's other areas: the person's open shift, wherever it is."""
    return await repo.open_shift(conn, user_id)


async def worked(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, mall_id: uuid.UUID, timezone: str, days: int
) -> repo.Worked:
    """For the mall's other areas: what the person worked at the mall on its last `days` days, today
    included, on the mall's clock (`timezone`)."""
    zone = zoneinfo.ZoneInfo(timezone)
    first_day = dt.datetime.now(zone).date() - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first_day, dt.time(), zone)
    return await repo.worked(conn, user_id=user_id, mall_id=mall_id, since=since, zone=timezone)


async def on_shift(conn: asyncpg.Connection, *, mall_id: uuid.UUID, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """For the mall's other areas: who of `user_ids` is clocked in at the mall now."""
    return await repo.on_shift(conn, mall_id=mall_id, user_ids=user_ids)
