"""Customers' visits to the mall's shops: the shop's staff check a customer in at the counter, or the
customer scans the code the counter shows (made from the shop, the day and the server's secret, so it
needs no storage and stops working at the end of the day). A visit counts once per customer, shop and
day on the mall's clock; a customer lists the shops they visited, and a shop's staff and the mall's
admins see visits by day."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
import zoneinfo

import asyncpg

from app.identity.people import service as people
from app.mall.places import service as places
from app.mall.rooms import MALL, SHOP, shop_room
from app.mall.shop_visits import repo
from app.mall.shop_visits.schemas import CounterVisitIn, QrVisitIn, VisitCode
from app.platform.http import Forbidden, NotFound, Unprocessable
from app.platform.pagination import Cursor
from app.platform.security.permissions import Principal
from app.platform.state import AppState

SHOP_STAFF = ("employee", "shop_manager")
MOST_DAYS = 366


def _today(mall_timezone: str) -> tuple[dt.date, dt.datetime]:
    """Today on the mall's clock, and the moment it ends."""
    zone = zoneinfo.ZoneInfo(mall_timezone)
    today = dt.datetime.now(zone).date()
    return today, dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone)


def _signature(secret: str, shop_id: uuid.UUID, day: dt.date) -> str:
    digest = hmac.new(secret.encode(), f"shop-visit:{shop_id}:{day.isoformat()}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def _read_code(secret: str, code: str) -> tuple[uuid.UUID, dt.date]:
    """The shop and day a code names; 422 `invalid_code` for one the server did not make."""
    invalid = Unprocessable("This is not a shop's check-in code.", code="invalid_code")
    try:
        shop_text, day_text, signature = code.split(".")
        shop_id, day = uuid.UUID(shop_text), dt.date.fromisoformat(day_text)
    except ValueError:
        raise invalid from None
    if not hmac.compare_digest(signature, _signature(secret, shop_id, day)):
        raise invalid
    return shop_id, day


def _is_staff(actor: Principal, shop_id: uuid.UUID, mall_id: uuid.UUID) -> bool:
    return actor.has(SHOP_STAFF, SHOP, shop_id) or actor.has(("mall_admin",), MALL, mall_id)


async def code_for_today(ctx: AppState, *, actor: Principal, shop_id: uuid.UUID) -> VisitCode:
    async with ctx.db.connection() as conn:
        shop, mall = await places.shop_and_mall(conn, shop_id)
    if not _is_staff(actor, shop.id, mall.id):
        raise Forbidden("Only the shop's staff show its check-in code.")
    today, ends = _today(mall.timezone)
    code = f"{shop.id}.{today.isoformat()}.{_signature(ctx.settings.jwt_secret, shop.id, today)}"
    return VisitCode(shop_id=shop.id, code=code, day=today, valid_until=ends)


async def _record(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, user_id: uuid.UUID, method: str
) -> tuple[repo.ShopVisit, bool]:
    async with ctx.db.transaction() as tx:
        shop, mall = await places.shop_and_mall(tx.conn, shop_id)
        if method == "counter" and not _is_staff(actor, shop.id, mall.id):
            raise Forbidden("Only the shop's staff check customers in at the counter.")
        today, _ = _today(mall.timezone)
        try:
            visit, created = await repo.record(
                tx.conn, shop_id=shop.id, user_id=user_id, day=today, method=method, by=actor.user_id
            )
        except asyncpg.ForeignKeyViolationError:
            raise Unprocessable("No such customer.", code="unknown_customer") from None
        if created:
            ctx.outbox.publish(tx, shop_room(shop.id), "shop_visited", visit)
    return visit, created


async def check_in_at_counter(ctx: AppState, *, actor: Principal, data: CounterVisitIn) -> tuple[repo.ShopVisit, bool]:
    """The visit, and whether it is new today; 422 for an account that is gone."""
    async with ctx.db.connection() as conn:
        if await people.person(conn, data.user_id) is None:
            raise Unprocessable("No such customer.", code="unknown_customer")
    return await _record(ctx, actor=actor, shop_id=data.shop_id, user_id=data.user_id, method="counter")


async def check_in_by_code(ctx: AppState, *, actor: Principal, data: QrVisitIn) -> tuple[repo.ShopVisit, bool]:
    """The caller's visit to the code's shop; 422 `invalid_code` for a code the server did not make and
    `expired_code` for one of another day."""
    shop_id, day = _read_code(ctx.settings.jwt_secret, data.code)
    async with ctx.db.connection() as conn:
        _, mall = await places.shop_and_mall(conn, shop_id)
    if day != _today(mall.timezone)[0]:
        raise Unprocessable(
            "This check-in code is from another day: scan the one the counter shows now.", code="expired_code"
        )
    return await _record(ctx, actor=actor, shop_id=shop_id, user_id=actor.user_id, method="qr")


async def mine(ctx: AppState, *, actor: Principal, after: Cursor, limit: int) -> list[repo.ShopVisit]:
    async with ctx.db.connection() as conn:
        return await repo.of_user(conn, user_id=actor.user_id, after=after, limit=limit)


async def by_day(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, first: dt.date | None, last: dt.date | None
) -> list[repo.VisitDay]:
    async with ctx.db.connection() as conn:
        shop, mall = await places.shop_and_mall(conn, shop_id)
        if not _is_staff(actor, shop.id, mall.id):
            raise NotFound("No such shop.")
        last = last or _today(mall.timezone)[0]
        first = first or last - dt.timedelta(days=29)
        if last < first or (last - first).days >= MOST_DAYS:
            raise Unprocessable(
                f"`from` must be before `to`, and at most {MOST_DAYS} days before.", code="invalid_range"
            )
        return await repo.by_day(conn, shop_id=shop.id, first=first, last=last)
