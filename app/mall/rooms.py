"""The mall domain's room names: a mall's security and admins, and a shop's staff."""

from __future__ import annotations

import uuid

from app.platform.realtime.rooms import room

MALL = "mall"
SHOP = "shop"


def mall_room(mall_id: uuid.UUID) -> str:
    return room(MALL, mall_id)


def shop_room(shop_id: uuid.UUID) -> str:
    return room(SHOP, shop_id)
