"""A shop's sales for its managers, its mall's admins and admins: revenue, orders and the average order by
day, the best-selling products, and payments by method, over days on the mall's clock. Sold means paid
and not cancelled since, counted on the day the order was placed."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass

from app.commerce.sales import repo
from app.mall.places import service as places
from app.platform.http import Forbidden, Unprocessable
from app.platform.security.permissions import Principal
from app.platform.state import AppState


@dataclass(frozen=True, slots=True)
class Sales:
    shop_id: uuid.UUID
    currency: str
    first_day: dt.date
    last_day: dt.date
    orders: int
    revenue: int
    average_order: int
    days: list[repo.Day]
    top_products: list[repo.TopProduct]
    payments: list[repo.ByMethod]


def _average(revenue: int, orders: int) -> int:
    """Revenue per order, rounded half up (the money rule)."""
    return (2 * revenue + orders) // (2 * orders) if orders else 0


async def sales(
    ctx: AppState, *, actor: Principal, shop_id: uuid.UUID, first_day: dt.date | None, last_day: dt.date | None
) -> Sales:
    async with ctx.db.connection() as conn:
        shop, mall = await places.shop_and_mall(conn, shop_id)
        if not (
            actor.has("shop_manager", places.SHOP_SCOPE, shop_id)
            or actor.has(places.MALL_ADMINS, places.MALL_SCOPE, shop.mall_id)
        ):
            raise Forbidden("A shop's sales are for its managers and its mall's admins.")
        zone = zoneinfo.ZoneInfo(mall.timezone)
        last_day = last_day or dt.datetime.now(zone).date()
        first_day = first_day or last_day - dt.timedelta(days=29)
        if last_day < first_day:
            raise Unprocessable(
                "`to` may not be before `from`.",
                code="invalid_range",
                details=[{"field": "to", "message": "before from", "type": "invalid_range"}],
            )
        start = dt.datetime.combine(first_day, dt.time(), zone)
        end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), zone)
        by_day = await repo.days(conn, shop_id=shop_id, zone=mall.timezone, start=start, end=end)
        top = await repo.top_products(conn, shop_id=shop_id, start=start, end=end)
        methods = await repo.by_method(conn, shop_id=shop_id, start=start, end=end)
    orders, revenue = sum(d[1] for d in by_day), sum(d[2] for d in by_day)
    return Sales(
        shop_id=shop_id,
        currency=mall.currency,
        first_day=first_day,
        last_day=last_day,
        orders=orders,
        revenue=revenue,
        average_order=_average(revenue, orders),
        days=[repo.Day(day, n, total, _average(total, n)) for day, n, total in by_day],
        top_products=top,
        payments=methods,
    )
