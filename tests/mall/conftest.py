"""A mall as its staff see it: an admin of the mall, a security guard, and a second mall beside it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.helpers import Api, User


@dataclass
class Mall:
    id: str
    other_id: str
    mall_admin: User
    security: User
    other_security: User
    shopper: User


async def new_mall(api: Api, admin: User, **extra: object) -> dict:
    body = {"name": f"Mall {uuid.uuid4().hex[:6]}", "timezone": "Asia/Kolkata", **extra}
    return await api.created("/v1/malls", body, admin)


@pytest.fixture
async def mall(api: Api, admin: User) -> Mall:
    tariff = {"free_minutes": 15, "hourly_price": 4000, "daily_cap": 30000}
    home = await new_mall(api, admin, parking=tariff)
    other = await new_mall(api, admin)
    mall_admin, security = await api.signup("Priya"), await api.signup("Arjun")
    other_security, shopper = await api.signup("Other Guard"), await api.signup("Shopper")
    await api.grant(admin, mall_admin, "mall_admin", "mall", home["id"])
    await api.grant(admin, security, "security", "mall", home["id"])
    await api.grant(admin, other_security, "security", "mall", other["id"])
    return Mall(home["id"], other["id"], mall_admin, security, other_security, shopper)
