"""Parking: the mall's security staff record cars entering and leaving; the mall room hears each
move at once, and a car leaving is charged by the mall's tariff. The cars the parking has seen (or was
told about) make its registry, by plate; the mall's admins correct or delete a visit, audited."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import asyncpg

from app.mall.parking import repo
from app.mall.parking.schemas import CarEntryIn, CarExitIn, CarIn, CarPatch, CarVisitPatch
from app.mall.places import service as places
from app.mall.rooms import MALL, mall_room
from app.platform import audit, idempotency
from app.platform.db import Tx
from app.platform.http import Conflict, Forbidden, NotFound, Unprocessable
from app.platform.pagination import Cursor
from app.platform.security.permissions import Principal
from app.platform.security.scopes import Scope
from app.platform.state import AppState

PARKING_STAFF = ("security", "mall_admin")
MALL_ADMINS = ("mall_admin",)


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


async def get_visit(ctx: AppState, *, actor: Principal, visit_id: uuid.UUID) -> repo.CarVisit:
    async with ctx.db.connection() as conn:
        visit = await repo.get(conn, visit_id)
    if visit is None or not actor.has(PARKING_STAFF, MALL, visit.mall_id):
        raise NotFound("No such car visit.")
    return visit


async def _visit_for_admin(conn: asyncpg.Connection, actor: Principal, visit_id: uuid.UUID) -> repo.CarVisit:
    """The visit, locked, for a change by the mall's admins: 404 for those who may not read it, 403 for its
    security staff."""
    visit = await repo.get(conn, visit_id, lock=True)
    if visit is None or not actor.has(PARKING_STAFF, MALL, visit.mall_id):
        raise NotFound("No such car visit.")
    if not actor.has(MALL_ADMINS, MALL, visit.mall_id):
        raise Forbidden("Only the mall's admins correct or delete a car visit.")
    return visit


async def correct_visit(ctx: AppState, *, actor: Principal, visit_id: uuid.UUID, data: CarVisitPatch) -> repo.CarVisit:
    """A mistaken plate, section or time put right; an ended visit is charged again for its corrected
    times. The audit keeps what each field was."""
    sent = data.model_dump(include=data.model_fields_set)
    async with ctx.db.transaction() as tx:
        visit = await _visit_for_admin(tx.conn, actor, visit_id)
        if "exited_at" in sent and visit.exited_at is None:
            raise Conflict("This car is still inside: it leaves through its exit.", code="still_inside")
        merged = {field: sent.get(field, getattr(visit, field)) for field in CarVisitPatch.model_fields}
        now = dt.datetime.now(dt.UTC)
        left = merged["exited_at"] or now
        if not merged["entered_at"] <= left <= now:
            raise Unprocessable("A car leaves after it enters, and neither happens in the future.", code="bad_times")
        if merged["plate"] != visit.plate:
            await repo.know_plate(tx.conn, mall_id=visit.mall_id, plate=merged["plate"])
        try:
            corrected = await repo.correct(tx.conn, visit_id, **merged)
        except asyncpg.UniqueViolationError:
            raise Conflict("A car with this plate is inside already.", code="already_inside") from None
        changed = sorted(f for f in sent if merged[f] != getattr(visit, f))
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, visit.mall_id),
            action="car_visit.corrected",
            resource_type="car_visit",
            resource_id=visit_id,
            details={"before": {f: getattr(visit, f) for f in changed}, "after": {f: merged[f] for f in changed}},
        )
        ctx.outbox.publish(tx, mall_room(visit.mall_id), "car_visit_corrected", corrected)
    return corrected


async def delete_visit(ctx: AppState, *, actor: Principal, visit_id: uuid.UUID) -> None:
    """A visit recorded by mistake goes (a car still inside is then no longer counted); the audit keeps it."""
    async with ctx.db.transaction() as tx:
        visit = await _visit_for_admin(tx.conn, actor, visit_id)
        await repo.delete(tx.conn, visit_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, visit.mall_id),
            action="car_visit.deleted",
            resource_type="car_visit",
            resource_id=visit_id,
            details={"visit": visit},
        )
        ctx.outbox.publish(tx, mall_room(visit.mall_id), "car_visit_deleted", visit)


async def add_car(ctx: AppState, *, actor: Principal, data: CarIn) -> repo.Car:
    """A car the parking should know before it first comes in; 409 for a plate the mall knows."""
    _require_staff(actor, data.mall_id)
    async with ctx.db.transaction() as tx:
        if await places.mall_of(tx.conn, data.mall_id) is None:
            raise NotFound("No such mall.")
        car = await repo.add_car(tx.conn, mall_id=data.mall_id, plate=data.plate, colour=data.colour, note=data.note)
        if car is None:
            known = await repo.car_by_plate(tx.conn, mall_id=data.mall_id, plate=data.plate)
            raise Conflict("The mall knows this car already.", code="car_known", details={"car_id": known and known.id})
        await _audit_car(tx, actor, car, "car.added")
    return car


async def _audit_car(tx: Tx, actor: Principal, car: repo.Car, action: str, **details: Any) -> None:
    await audit.record(
        tx.conn,
        actor_id=actor.user_id,
        where=Scope(MALL, car.mall_id),
        action=action,
        resource_type="car",
        resource_id=car.id,
        details={"plate": car.plate, **details},
    )


async def _car_for_staff(conn: asyncpg.Connection, actor: Principal, car_id: uuid.UUID) -> repo.Car:
    car = await repo.car(conn, car_id)
    if car is None or not actor.has(PARKING_STAFF, MALL, car.mall_id):
        raise NotFound("No such car.")
    return car


async def get_car(ctx: AppState, *, actor: Principal, car_id: uuid.UUID) -> repo.Car:
    async with ctx.db.connection() as conn:
        return await _car_for_staff(conn, actor, car_id)


async def list_cars(
    ctx: AppState, *, actor: Principal, mall_id: uuid.UUID, plate: str | None, after: str | None, limit: int
) -> list[repo.Car]:
    _require_staff(actor, mall_id)
    async with ctx.db.connection() as conn:
        return await repo.list_cars(conn, mall_id=mall_id, plate_prefix=plate, after=after, limit=limit)


async def change_car(ctx: AppState, *, actor: Principal, car_id: uuid.UUID, data: CarPatch) -> repo.Car:
    async with ctx.db.transaction() as tx:
        await _car_for_staff(tx.conn, actor, car_id)
        changes = data.model_dump(include=data.model_fields_set)
        car = await repo.change_car(tx.conn, car_id, changes)
        await _audit_car(tx, actor, car, "car.updated", fields=sorted(changes))
    return car


async def remove_car(ctx: AppState, *, actor: Principal, car_id: uuid.UUID) -> None:
    """Forget a car; 409 while it is inside. Its visits stay, named by plate."""
    async with ctx.db.transaction() as tx:
        car = await _car_for_staff(tx.conn, actor, car_id)
        if not await repo.remove_car(tx.conn, car_id):
            raise Conflict("This car is inside: it can be removed once it has left.", code="car_inside")
        await _audit_car(tx, actor, car, "car.removed")
