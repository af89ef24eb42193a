"""A shop as its people see it: the mall's admin opens it, a manager runs its catalogue, an employee
serves at it, and customers browse; a second shop stands beside it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from tests.helpers import Api, User


@dataclass
class Shop:
    id: str
    other_id: str
    mall_id: str
    manager: User
    employee: User
    customer: User
    other_customer: User
    other_manager: User


@pytest.fixture
async def shop(api: Api, admin: User) -> Shop:
    mall = await api.created("/v1/malls", {"name": f"Mall {uuid.uuid4().hex[:6]}", "timezone": "Asia/Kolkata"}, admin)
    home = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Corner Cafe", "shop_type": "cafe"}, admin)
    other = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Watch World", "shop_type": "retail"}, admin)
    manager, employee = await api.signup("Manager"), await api.signup("Barista")
    customer, other_customer, other_manager = (
        await api.signup("Customer"),
        await api.signup("Other Customer"),
        await api.signup("Other Manager"),
    )
    await api.grant(admin, manager, "shop_manager", "shop", home["id"])
    await api.grant(admin, employee, "employee", "shop", home["id"])
    await api.grant(admin, other_manager, "shop_manager", "shop", other["id"])
    return Shop(home["id"], other["id"], mall["id"], manager, employee, customer, other_customer, other_manager)


def product_body(shop_id: str, name: str, price: int, **extra: object) -> dict:
    return {"shop_id": shop_id, "name": name, "price": price, **extra}
