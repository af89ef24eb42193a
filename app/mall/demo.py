"""Demo data for `gatehouse seed-demo`: a mall with shops, a cinema programme and an offer, a car its
parking knows, its admin, a security guard, an employee, and a key for a camera script."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
import zoneinfo

from app.identity import demo as identity_demo
from app.identity import service as identity
from app.identity.schemas import RoleAssignmentIn
from app.mall.cinema import service as cinema
from app.mall.cinema.schemas import CinemaIn, MovieIn, ShowingIn
from app.mall.issues import service as issues
from app.mall.offers import service as offers
from app.mall.offers.schemas import OfferIn
from app.mall.parking import service as parking
from app.mall.parking.schemas import CarIn
from app.mall.places import service as places
from app.mall.places.schemas import Hours, MallIn, ShopIn, Tariff
from app.mall.rooms import MALL, SHOP
from app.platform.http import Conflict
from app.platform.idempotency import UNKEYED
from app.platform.modules import DemoAccount
from app.platform.security.permissions import Principal
from app.platform.state import AppState

MALL_NAME = "City Mall"
MALL_ADMIN = ("mall-admin@demo.example.com", "Priya (mall admin)")
SHOPS = [
    ("Timepiece Gallery", "retail", "G-12", 0),
    ("Bean There Cafe", "cafe", "1-04", 1),
    ("Everyday Store", "retail", "1-20", 1),
]


async def seed(ctx: AppState) -> list[DemoAccount]:
    """Create (or find) the demo mall, its shops and its staff; returns who can sign in."""
    admin = await identity_demo.admin(ctx)
    found = await identity_demo.held_by(ctx, *MALL_ADMIN, role="mall_admin", scope_type=MALL)
    mall = (
        await places.get_mall(ctx, found)
        if found
        else (
            await places.create_mall(
                ctx,
                actor=admin,
                data=MallIn(
                    name=MALL_NAME,
                    address="MG Road, Bengaluru",
                    timezone="Asia/Kolkata",
                    parking=Tariff(free_minutes=15, hourly_price=4000, daily_cap=30000),
                ),
                attempt=UNKEYED,
            )
        )[1]
    )
    shops = {s.name: s for s in await places.list_shops(ctx, mall_id=mall.id, shop_type=None, after=None, limit=100)}
    for name, shop_type, location, floor in SHOPS:
        if name not in shops:
            _, shops[name] = await places.create_shop(
                ctx,
                actor=admin,
                data=ShopIn(
                    mall_id=mall.id,
                    name=name,
                    shop_type=shop_type,
                    location=location,
                    floor=floor,
                    hours=Hours(opens=dt.time(10), closes=dt.time(22)),
                ),
                attempt=UNKEYED,
            )
    await _programme(ctx, admin, mall.id)
    await _offer(ctx, admin, mall.id, shops["Bean There Cafe"].id)
    with contextlib.suppress(Conflict):  # known from an earlier run
        await parking.add_car(
            ctx,
            actor=admin,
            data=CarIn(mall_id=mall.id, plate="KA01MG2024", colour="silver", note="The cafe owner's; parks in B2"),
        )
    people = [
        (*MALL_ADMIN, "mall_admin", MALL, mall.id, MALL_NAME),
        ("security@demo.example.com", "Arjun (security)", "security", MALL, mall.id, f"{MALL_NAME} parking"),
        (
            "employee@demo.example.com",
            "Kiran (employee)",
            "employee",
            SHOP,
            shops["Bean There Cafe"].id,
            "Bean There Cafe",
        ),
    ]
    accounts = []
    for email, name, role, scope_type, scope_id, where in people:
        user = await identity_demo.account(ctx, email, name)
        await identity.grant_role(
            ctx,
            actor=admin,
            data=RoleAssignmentIn(user_id=user.id, role=role, scope_type=scope_type, scope_id=scope_id),
        )
        accounts.append(DemoAccount(role, email, where))
    accounts.append(await _camera_key(ctx, admin, mall.id))
    return accounts


async def _offer(ctx: AppState, admin: Principal, mall_id: uuid.UUID, shop_id: uuid.UUID) -> None:
    """A month of 15 % off at the cafe, from now (unless one is running)."""
    if await offers.list_offers(ctx, mall_id=mall_id, shop_id=shop_id, active=True, after=None, limit=1):
        return
    now = dt.datetime.now(dt.UTC)
    await offers.create_offer(
        ctx,
        actor=admin,
        data=OfferIn(
            mall_id=mall_id,
            title="Monsoon coffee",
            description="15 % off every drink",
            discount_percent=15,
            starts_at=now,
            ends_at=now + dt.timedelta(days=30),
            shop_ids=[shop_id],
        ),
        attempt=UNKEYED,
    )


CAMERA_KEY_NAME = "Demo camera"


async def _camera_key(ctx: AppState, admin: Principal, mall_id: uuid.UUID) -> DemoAccount:
    """A fresh key for a camera script (a key is shown only when made, so each run replaces the last one)."""
    for old in await issues.list_keys(ctx, actor=admin, mall_id=mall_id):
        if old.name == CAMERA_KEY_NAME and old.revoked_at is None:
            await issues.revoke_key(ctx, actor=admin, mall_id=mall_id, key_id=old.id)
    made = await issues.create_key(ctx, actor=admin, mall_id=mall_id, name=CAMERA_KEY_NAME)
    return DemoAccount("camera", made.key, f"{MALL_NAME} detections (x-api-key)")


async def _programme(ctx: AppState, admin: Principal, mall_id: uuid.UUID) -> None:
    """A cinema with one movie showing this evening and tomorrow evening, on the mall's clock."""
    cinemas = await cinema.list_cinemas(ctx, mall_id=mall_id, after=None, limit=100)
    screen = (
        cinemas[0]
        if cinemas
        else (
            await cinema.create_cinema(
                ctx,
                actor=admin,
                data=CinemaIn(mall_id=mall_id, name="City Screens", location="3-01", floor=3),
                attempt=UNKEYED,
            )
        )[1]
    )
    movies = await cinema.list_movies(ctx, mall_id=mall_id, after=None, limit=100)
    movie = (
        movies[0]
        if movies
        else (
            await cinema.create_movie(
                ctx,
                actor=admin,
                data=MovieIn(
                    mall_id=mall_id, name="The Long Monsoon", duration_minutes=142, genre="drama", ticket_price=25000
                ),
                attempt=UNKEYED,
            )
        )[1]
    )
    zone = zoneinfo.ZoneInfo("Asia/Kolkata")
    today = dt.datetime.now(zone).date()
    for day in (today, today + dt.timedelta(days=1)):
        starts = dt.datetime.combine(day, dt.time(19), zone)
        with contextlib.suppress(Conflict):  # seeded before
            await cinema.create_showing(
                ctx,
                actor=admin,
                data=ShowingIn(cinema_id=screen.id, movie_id=movie.id, starts_at=starts, seats=120),
                attempt=UNKEYED,
            )
