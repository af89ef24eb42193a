"""A mall's cinemas, the movies it shows, its showings and the tickets bought for them. Cinemas are
the mall's shops of type `cinema`; seats are never oversold (the purchase decides in PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import asyncpg

from app.mall.cinema import online, repo
from app.mall.cinema.checkouts import is_cinema_staff, tell
from app.mall.cinema.schemas import (
    CinemaIn,
    CinemaPatch,
    MovieIn,
    MoviePatch,
    ShowingIn,
    ShowingPatch,
    TicketCheckoutIn,
    TicketPaymentIn,
)
from app.mall.places import repo as places_repo
from app.mall.places import service as places
from app.mall.places.schemas import ShopIn, ShopPatch
from app.mall.rooms import MALL, mall_room
from app.platform import audit, idempotency
from app.platform.db import Tx
from app.platform.http import Conflict, Forbidden, NotFound, Unprocessable
from app.platform.pagination import Cursor
from app.platform.security.permissions import Principal, require
from app.platform.security.scopes import Scope
from app.platform.state import AppState

CINEMA = "cinema"


async def create_cinema(
    ctx: AppState, *, actor: Principal, data: CinemaIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    shop = ShopIn(**data.model_dump(), shop_type=CINEMA)
    return await places.create_shop(ctx, actor=actor, data=shop, attempt=attempt)


async def list_cinemas(ctx: AppState, *, mall_id: uuid.UUID, after: Cursor, limit: int) -> list[places_repo.Shop]:
    return await places.list_shops(ctx, mall_id=mall_id, shop_type=CINEMA, after=after, limit=limit)


async def get_cinema(ctx: AppState, cinema_id: uuid.UUID) -> places_repo.Shop:
    shop = await places.get_shop(ctx, cinema_id)
    if shop.shop_type != CINEMA:
        raise NotFound("No such cinema.")
    return shop


async def create_movie(
    ctx: AppState, *, actor: Principal, data: MovieIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """A movie the mall shows (its admins)."""

    async def work(tx: Tx) -> repo.Movie:
        movie = await repo.insert_movie(tx.conn, **data.model_dump())
        if movie is None:
            raise Conflict("The mall already has a movie of this name.", code="duplicate_name")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, data.mall_id),
            action="movie.created",
            resource_type="movie",
            resource_id=movie.id,
        )
        return movie

    async with ctx.db.transaction() as tx:
        await places.require_mall_admin(tx.conn, actor, data.mall_id)
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def update_cinema(
    ctx: AppState, *, actor: Principal, cinema_id: uuid.UUID, data: CinemaPatch
) -> places_repo.Shop:
    """A cinema changes as a shop does (its mall's admins or its managers); it stays a cinema."""
    await get_cinema(ctx, cinema_id)
    sent = {name: getattr(data, name) for name in data.model_fields_set}
    return await places.update_shop(
        ctx, actor=actor, shop_id=cinema_id, data=ShopPatch.model_construct(_fields_set=set(sent), **sent)
    )


async def delete_cinema(ctx: AppState, *, actor: Principal, cinema_id: uuid.UUID) -> None:
    """Close a cinema, with its showings (its mall's admins)."""
    await get_cinema(ctx, cinema_id)
    await places.delete_shop(ctx, actor=actor, shop_id=cinema_id)


async def list_movies(ctx: AppState, *, mall_id: uuid.UUID, after: Cursor, limit: int) -> list[repo.Movie]:
    async with ctx.db.connection() as conn:
        return await repo.list_movies(conn, mall_id=mall_id, after=after, limit=limit)


async def get_movie(ctx: AppState, movie_id: uuid.UUID) -> repo.Movie:
    async with ctx.db.connection() as conn:
        movie = await repo.get_movie(conn, movie_id)
    if movie is None:
        raise NotFound("No such movie.")
    return movie


async def update_movie(ctx: AppState, *, actor: Principal, movie_id: uuid.UUID, data: MoviePatch) -> repo.Movie:
    """Change what was sent (the mall's admins)."""
    changes = {name: getattr(data, name) for name in data.model_fields_set if name in repo.MOVIE_COLUMNS}
    async with ctx.db.transaction() as tx:
        movie = await repo.get_movie(tx.conn, movie_id)
        if movie is None:
            raise NotFound("No such movie.")
        require(actor, places.MALL_ADMINS, MALL, movie.mall_id)
        try:
            updated = await repo.update_movie(tx.conn, movie_id, changes)
        except asyncpg.UniqueViolationError:
            raise Conflict("The mall already has a movie of this name.", code="duplicate_name") from None
        assert updated is not None, "found in this transaction"
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, movie.mall_id),
            action="movie.updated",
            resource_type="movie",
            resource_id=movie_id,
            details={"fields": sorted(changes)},
        )
        return updated


async def delete_movie(ctx: AppState, *, actor: Principal, movie_id: uuid.UUID) -> None:
    """Take a movie off, with its showings (the mall's admins)."""
    async with ctx.db.transaction() as tx:
        movie = await repo.get_movie(tx.conn, movie_id)
        if movie is None:
            raise NotFound("No such movie.")
        require(actor, places.MALL_ADMINS, MALL, movie.mall_id)
        await repo.delete_movie(tx.conn, movie_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, movie.mall_id),
            action="movie.deleted",
            resource_type="movie",
            resource_id=movie_id,
        )


async def create_showing(
    ctx: AppState, *, actor: Principal, data: ShowingIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """A movie at a start time in one of the mall's cinemas, with its seats (the mall's admins)."""
    async with ctx.db.transaction() as tx:
        cinema = await places_repo.get_shop(tx.conn, data.cinema_id)
        if cinema is None or cinema.shop_type != CINEMA:
            raise NotFound("No such cinema.")
        require(actor, places.MALL_ADMINS, MALL, cinema.mall_id)

        async def work(tx: Tx) -> repo.Showing:
            movie = await repo.get_movie(tx.conn, data.movie_id)
            if movie is None or movie.mall_id != cinema.mall_id:
                raise NotFound("No such movie at this mall.")
            mall = await places.mall_of(tx.conn, cinema.mall_id)
            assert mall is not None, "the cinema's mall exists"
            showing = await repo.insert_showing(
                tx.conn,
                mall_id=cinema.mall_id,
                cinema_id=cinema.id,
                movie=movie,
                starts_at=data.starts_at,
                seats=data.seats,
                currency=mall.currency,
            )
            if showing is None:
                raise Conflict("The cinema has a showing starting then.", code="duplicate_showing")
            ctx.outbox.publish(tx, mall_room(cinema.mall_id), "showing_updated", showing)
            await audit.record(
                tx.conn,
                actor_id=actor.user_id,
                where=Scope(MALL, cinema.mall_id),
                action="showing.created",
                resource_type="showing",
                resource_id=showing.id,
            )
            return showing

        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def showings_on(
    ctx: AppState, *, mall_id: uuid.UUID, cinema_id: uuid.UUID | None, day: dt.date | None
) -> list[repo.Showing]:
    """What is on one day (today when None) on the mall's clock, across the mall or in one cinema."""
    async with ctx.db.connection() as conn:
        mall = await places.mall_of(conn, mall_id)
        if mall is None:
            raise NotFound("No such mall.")
        zone = zoneinfo.ZoneInfo(mall.timezone)
        day = day or dt.datetime.now(zone).date()
        start = dt.datetime.combine(day, dt.time(), zone)
        return await repo.showings_between(
            conn, mall_id=mall_id, cinema_id=cinema_id, start=start, end=start + dt.timedelta(days=1)
        )


async def get_showing(ctx: AppState, showing_id: uuid.UUID) -> repo.Showing:
    async with ctx.db.connection() as conn:
        showing = await repo.get_showing(conn, showing_id)
    if showing is None:
        raise NotFound("No such showing.")
    return showing


async def update_showing(ctx: AppState, *, actor: Principal, showing_id: uuid.UUID, data: ShowingPatch) -> repo.Showing:
    """Move a showing or change its seats (the mall's admins); the mall room hears of it."""
    async with ctx.db.transaction() as tx:
        showing = await repo.get_showing(tx.conn, showing_id)
        if showing is None:
            raise NotFound("No such showing.")
        require(actor, places.MALL_ADMINS, MALL, showing.mall_id)
        try:
            updated = await repo.update_showing(tx.conn, showing_id, starts_at=data.starts_at, seats=data.seats)
        except asyncpg.CheckViolationError:
            raise Conflict(
                "More seats are sold than that.",
                code="seats_sold",
                details={"seats_sold": showing.seats - showing.seats_left},
            ) from None
        except asyncpg.UniqueViolationError:
            raise Conflict("The cinema has a showing starting then.", code="duplicate_showing") from None
        assert updated is not None, "found in this transaction"
        ctx.outbox.publish(tx, mall_room(showing.mall_id), "showing_updated", updated)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, showing.mall_id),
            action="showing.updated",
            resource_type="showing",
            resource_id=showing_id,
            details={"fields": sorted(data.model_fields_set)},
        )
        return updated


async def delete_showing(ctx: AppState, *, actor: Principal, showing_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as tx:
        showing = await repo.get_showing(tx.conn, showing_id)
        if showing is None:
            raise NotFound("No such showing.")
        require(actor, places.MALL_ADMINS, MALL, showing.mall_id)
        await repo.delete_showing(tx.conn, showing_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(MALL, showing.mall_id),
            action="showing.deleted",
            resource_type="showing",
            resource_id=showing_id,
        )


# How long a reservation holds its seats before the expiry sweep lets them go (never past the showing).
HOLD = dt.timedelta(minutes=10)
EXPIRE_BATCH = 500

# Online payment of a reservation, for the routes; and for the shops' webhooks, which carry its news.
start_online = online.start
take_online_payment = online.take_payment
ticket_refund_settled = online.refund_settled
PAYMENT_JOBS = online.JOBS


async def checkout(
    ctx: AppState, *, actor: Principal, data: TicketCheckoutIn, attempt: idempotency.Attempt
) -> tuple[int, Any]:
    """Reserve seats for a showing at its price, held for HOLD (paid at the cinema's counter meanwhile);
    a retry with the same Idempotency-Key gets the first answer. 409 `sold_out` when the seats are not
    there (or the showing has started)."""

    async def work(tx: Tx) -> repo.TicketCheckout:
        held = await repo.reserve(
            tx.conn, showing_id=data.showing_id, user_id=actor.user_id, tickets=data.tickets, hold=HOLD
        )
        if held is None:
            showing = await repo.get_showing(tx.conn, data.showing_id)
            if showing is None:
                raise NotFound("No such showing.")
            raise Conflict(
                "Not that many seats are left, or the showing has started.",
                code="sold_out",
                details={"seats_left": showing.seats_left},
            )
        tell(ctx, tx, held, seats_changed=True)
        return held

    async with ctx.db.transaction() as tx:
        return await idempotency.once(tx, user_id=actor.user_id, attempt=attempt, status=201, work=work)


async def _checkout_for(tx: Tx, actor: Principal, checkout_id: uuid.UUID) -> repo.TicketCheckout:
    """The checkout, locked; 404 unless it is the caller's or they are the cinema's staff."""
    found = await repo.checkout(tx.conn, checkout_id, lock=True)
    if found is None or not (found.user_id == actor.user_id or is_cinema_staff(actor, found)):
        raise NotFound("No such ticket checkout.")
    return found


async def get_checkout(ctx: AppState, *, actor: Principal, checkout_id: uuid.UUID) -> repo.TicketCheckout:
    async with ctx.db.transaction() as tx:
        return await _checkout_for(tx, actor, checkout_id)


async def pay_checkout(
    ctx: AppState, *, actor: Principal, checkout_id: uuid.UUID, data: TicketPaymentIn
) -> repo.TicketCheckout:
    """The cinema's staff take the money for a reservation still held: it is paid."""
    async with ctx.db.transaction() as tx:
        held = await _checkout_for(tx, actor, checkout_id)
        if not is_cinema_staff(actor, held):
            raise Forbidden("Only the cinema's staff take payments.")
        if held.status != "reserved" or (held.expires_at is not None and held.expires_at <= dt.datetime.now(dt.UTC)):
            raise Conflict(f"This checkout is {held.status}: the seats are not held for it.", code="not_payable")
        if data.amount != held.total:
            raise Unprocessable(
                "A payment is the checkout's total.", code="amount_mismatch", details={"total": held.total}
            )
        await repo.mark_paid(tx.conn, checkout_id, method=data.method)
        paid = await repo.checkout(tx.conn, checkout_id)
        assert paid is not None, "locked in this transaction"
        tell(ctx, tx, paid, seats_changed=False)
    return paid


async def cancel_checkout(ctx: AppState, *, actor: Principal, checkout_id: uuid.UUID) -> repo.TicketCheckout:
    """Let the seats go: a reservation is `cancelled` (by its buyer or the cinema's staff); a paid checkout is
    `refunded` before the showing starts, by the cinema's staff at the counter, or (paid online) by its
    buyer too, the money going back through the provider. Either refund is recorded."""
    async with ctx.db.transaction() as tx:
        held = await _checkout_for(tx, actor, checkout_id)
        if held.status not in ("reserved", "paid"):
            raise Conflict(f"This checkout is {held.status} already.", code="already_ended")
        if held.status == "paid":
            if not (is_cinema_staff(actor, held) or online.paid_online(held)):
                raise Forbidden("The cinema's staff refund tickets paid at the counter.")
            if held.showing.starts_at <= dt.datetime.now(dt.UTC):
                raise Conflict("The showing has started: its tickets are not refunded.", code="showing_started")
            await online.give_back(ctx, tx, held)
        await repo.end(tx.conn, checkout_id, status="refunded" if held.status == "paid" else "cancelled")
        ended = await repo.checkout(tx.conn, checkout_id)
        assert ended is not None, "locked in this transaction"
        tell(ctx, tx, ended, seats_changed=True)
    return ended


async def expire_holds(ctx: AppState, payload: dict[str, Any]) -> None:
    """The sweep job: reservations whose hold ran out are cancelled and their seats go back on sale."""
    async with ctx.db.transaction() as tx:
        for expired in await repo.expire_due(tx.conn, most=EXPIRE_BATCH):
            tell(ctx, tx, expired, seats_changed=True)


async def my_checkouts(ctx: AppState, *, actor: Principal, after: Cursor, limit: int) -> list[repo.TicketCheckout]:
    async with ctx.db.connection() as conn:
        return await repo.checkouts_of(conn, user_id=actor.user_id, after=after, limit=limit)
