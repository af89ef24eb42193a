"""A mall's overview: what its staff's dashboard shows, in one read, for them only."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.helpers import Api
from tests.mall.conftest import Mall


async def test_the_overview_counts_cars_staff_showings_and_offers(api: Api, mall: Mall) -> None:
    for plate, section in (("AA11", "B1"), ("BB22", "B1"), ("CC33", "B2")):
        await api.created("/v1/car-visits", {"mall_id": mall.id, "plate": plate, "section": section}, mall.security)
    await api.created("/v1/attendance/clock-in", {"mall_id": mall.id}, mall.security)
    shop = await api.created("/v1/shops", {"mall_id": mall.id, "name": "Shop", "shop_type": "retail"}, mall.mall_admin)
    start, end = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    offer = await api.created(
        "/v1/offers",
        {
            "mall_id": mall.id,
            "title": "Now",
            "discount_percent": 5,
            "starts_at": start.isoformat(),
            "ends_at": end.isoformat(),
            "shop_ids": [shop["id"]],
        },
        mall.mall_admin,
    )
    seen = await api.get(f"/v1/malls/{mall.id}/overview", mall.security)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["cars_inside"] == {"B1": 2, "B2": 1}
    assert body["clocked_in"] == {"mall": ["Arjun"]}
    assert [o["id"] for o in body["active_offers"]] == [offer["id"]]
    assert body["showings_today"] == []
    assert (await api.get(f"/v1/malls/{mall.id}/overview", mall.shopper)).status_code == 403
    assert (await api.get(f"/v1/malls/{mall.other_id}/overview", mall.security)).status_code == 403
    assert (await api.get(f"/v1/malls/{uuid.uuid4()}/overview", mall.security)).status_code == 404
