"""Demo accounts for `gatehouse seed-demo`: the admin, and sign-up-or-sign-in for other domains' people."""

from __future__ import annotations

import uuid

from app.identity import service
from app.identity.repo import User
from app.identity.schemas import SignupIn
from app.platform.http import Conflict
from app.platform.modules import DEMO_PASSWORD, DemoAccount
from app.platform.security.permissions import Principal
from app.platform.state import AppState

ADMIN_EMAIL = "admin@demo.example.com"
_DEVICE = service.Device(None, "seed-demo")


async def admin(ctx: AppState) -> Principal:
    """The demo admin (made, or its password reset to the demo one), as a caller for other domains' seeding."""
    user = await service.create_admin(
        ctx.db, ctx.passwords, email=ADMIN_EMAIL, password=DEMO_PASSWORD, name="Admin", reset_password=True
    )
    return await service.principal_of(ctx.db, user.id)


async def account(ctx: AppState, email: str, name: str) -> User:
    """A demo person with the demo password: signed up the first time, found after that."""
    try:
        return (
            await service.signup(ctx, data=SignupIn(email=email, password=DEMO_PASSWORD, name=name), device=_DEVICE)
        ).user
    except Conflict:
        return (await service.login(ctx, email=email, password=DEMO_PASSWORD, device=_DEVICE)).user


async def held_by(ctx: AppState, email: str, name: str, *, role: str, scope_type: str) -> uuid.UUID | None:
    """The place where this demo person already holds `role`: how a second seed finds what the first made
    (by its names it could find someone else's mall called the same)."""
    user = await account(ctx, email, name)
    held = sorted((await service.principal_of(ctx.db, user.id)).scope_ids(role, scope_type))
    return held[0] if held else None


async def seed(ctx: AppState) -> list[DemoAccount]:
    await admin(ctx)
    return [DemoAccount("admin", ADMIN_EMAIL, "everything")]
