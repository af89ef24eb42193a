"""A mall's dashboard in one read: cars inside by section, who is clocked in per shop, today's
showings with seats left, and the offers running now. Each area answers for its own part."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass

from app.mall.attendance import service as attendance
from app.mall.cinema import service as cinema
from app.mall.issues import service as issues
from app.mall.offers import service as offers
from app.mall.parking import service as parking
from app.mall.places import service as places
from app.mall.rooms import MALL
from app.platform.security.permissions import Principal, require
from app.platform.state import AppState


@dataclass(frozen=True, slots=True)
class Overview:
    mall_id: uuid.UUID
    at: dt.datetime
    cars_inside: dict[str, int]
    open_issues: dict[str, int]
    clocked_in: dict[str, list[str]]
    showings_today: list[cinema.repo.Showing]
    active_offers: list[offers.repo.Offer]


async def overview(ctx: AppState, *, actor: Principal, mall_id: uuid.UUID) -> Overview:
    """For the mall's admins and security staff."""
    mall = await places.get_mall(ctx, mall_id)
    require(actor, ("mall_admin", "security"), MALL, mall_id)
    zone = zoneinfo.ZoneInfo(mall.timezone)
    return Overview(
        mall_id=mall_id,
        at=dt.datetime.now(zone),
        cars_inside=await parking.inside_by_section(ctx, mall_id=mall_id),
        open_issues=await issues.open_by_state(ctx, mall_id=mall_id),
        clocked_in=await attendance.clocked_in_by_place(ctx, mall_id=mall_id),
        showings_today=await cinema.showings_on(ctx, mall_id=mall_id, cinema_id=None, day=None),
        active_offers=await offers.list_offers(ctx, mall_id=mall_id, shop_id=None, active=True, after=None, limit=100),
    )
