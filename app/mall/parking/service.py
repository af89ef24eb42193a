"""Parking: the mall's security staff record cars entering and leaving; the mall room hears each
move at once, and a car leaving is charged by the mall's tariff."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from app.mall.parking import repo
from app.mall.parking.schemas import CarEntryIn, CarExitIn
from app.mall.places import service as places
from app.mall.rooms import MALL, mall_room
from app.platform import idempotency
from app.platform.db import Tx
from app.platform.http import Conflict, Forbidden, NotFound
from app.platform.pagination import Cursor
from app.platform.security.permissions import Principal
from app.platform.state import AppState

PARKING_STAFF = ("security", "mall_admin")


def _require_staff(actor: Principal, mall_id: uuid.UUID) -> None:
    if not actor.has(PARKING_STAFF, MALL, mall_id):
        raise Forbidden("Only the mall's security staff record its parking.")


async def enter(ctx: AppState, *, actor: Principal, data: CarEntryIn, attempt: idempotency.Attempt) -> tuple[int, Any]:
    """A car comes in; 409 if it is inside already (the database decides, so two guards at two gates
    cannot both let it in). A retry with the same Idempotency-Key gets the first answer, not a 409."""
    _require_staff(actor, data.mall_id)

    async def work(tx: Tx) -> repo.CarVisit:
        visit = await repo.enter(
            tx.conn, mall_id=data.mall_id, plate=data.plate, colour=data.colour, section=data.section, by=actor.user_id
        )
        if visit is None:
            inside = await repo.open_visit(tx.conn, mall_id=data.mall_id, plate=data.plate)
            if inside is None:
                raise NotFound("No such mall.")
            raise Conflict(
                "This car is inside already.",
                code="already_inside",
                details={"visit_id": inside.id, "section": inside.section, "entered_at": inside.entered_at},
            )
        ctx.outbox.publish(tx, mall_room(data.mall_id), "car_entered", visit)
        return visit

    async with ctx.db.transaction() as tx:
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def exit_by_id(
    ctx: AppState, *, actor: Principal, visit_id: uuid.UUID, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """The car of this visit leaves, and pays; a retry with the same Idempotency-Key gets the first answer."""
    malls = None if actor.is_admin else sorted(actor.scope_ids(PARKING_STAFF, MALL))
    if malls == []:
        raise NotFound("No such car visit.")

    async def work(tx: Tx) -> repo.CarVisit:
        visit = await repo.exit_by_id(tx.conn, visit_id=visit_id, malls=malls, by=actor.user_id)
        if visit is None:
            found = await repo.get(tx.conn, visit_id)
            if found is None or not actor.has(PARKING_STAFF, MALL, found.mall_id):
                raise NotFound("No such car visit.")
            raise Conflict("This car has left already.", code="already_left", details={"exited_at": found.exited_at})
        ctx.outbox.publish(tx, mall_room(visit.mall_id), "car_exited", visit)
        return visit

    async with ctx.db.transaction() as tx:
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=200, work=work)


async def exit_by_plate(
    ctx: AppState, *, actor: Principal, data: CarExitIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """The car with this plate leaves, and pays; 409 if it is not inside (but a retry with the same
    Idempotency-Key gets the first answer)."""
    _require_staff(actor, data.mall_id)

    async def work(tx: Tx) -> repo.CarVisit:
        visit = await repo.exit_by_plate(tx.conn, mall_id=data.mall_id, plate=data.plate, by=actor.user_id)
        if visit is None:
            if await places.mall_of(tx.conn, data.mall_id) is None:
                raise NotFound("No such mall.")
            raise Conflict("This car is not inside.", code="not_inside")
        ctx.outbox.publish(tx, mall_room(visit.mall_id), "car_exited", visit)
        return visit

    async with ctx.db.transaction() as tx:
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=200, work=work)


async def list_visits(
    ctx: AppState,
    *,
    actor: Principal,
    mall_id: uuid.UUID,
    plate: str | None,
    inside: bool | None,
    section: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    after: Cursor,
    limit: int,
) -> list[repo.CarVisit]:
    """The mall's car visits, newest first (its security staff and admins)."""
    _require_staff(actor, mall_id)
    async with ctx.db.connection() as conn:
        return await repo.list_visits(
            conn,
            mall_id=mall_id,
            plate=plate,
            inside=inside,
            section=section,
            since=since,
            until=until,
            after=after,
            limit=limit,
        )


async def inside_by_section(ctx: AppState, *, mall_id: uuid.UUID) -> dict[str, int]:
    """How many cars are inside now, per section."""
    async with ctx.db.connection() as conn:
        return await repo.inside_by_section(conn, mall_id)


async def parking_day(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID, date: dt.date | None) -> repo.ParkingDay:
    """Occupancy and revenue of one day on the mall's clock (today when None), for its staff."""
    _require_staff(actor, mall_id)
    async with ctx.db.connection() as conn:
        mall = await places.mall_of(conn, mall_id)
        if mall is None:
            raise NotFound("No such mall.")
        zone = zoneinfo.ZoneInfo(mall.timezone)
        date = date or dt.datetime.now(zone).date()
        start = dt.datetime.combine(date, dt.time(), zone)
        counts = await repo.day(conn, mall_id=mall_id, start=start, end=start + dt.timedelta(days=1))
    return repo.ParkingDay(mall_id=mall_id, date=date, currency=mall.currency, **counts)
