"""A mall's admins read what was done in the mall and its shops; a shop's manager reads their shop's."""

from __future__ import annotations

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User


async def test_the_mall_and_its_shops_keep_their_own_logs(api: Api, admin: User, shop: Shop) -> None:
    mall_admin = await api.signup("Mall Admin")
    await api.grant(admin, mall_admin, "mall_admin", "mall", shop.mall_id)
    product = await api.created("/v1/products", product_body(shop.id, "Flat white", 180, stock=5), shop.manager)
    elsewhere = await api.created("/v1/products", product_body(shop.other_id, "Watch", 9000), shop.other_manager)

    def place(kind: str, place_id: str) -> dict[str, str]:
        return {"scope_type": kind, "scope_id": place_id, "action": "product."}

    in_mall = await api.get("/v1/audit", mall_admin, params=place("mall", shop.mall_id))
    assert in_mall.status_code == 200, in_mall.text
    assert {e["resource_id"] for e in in_mall.json()["items"]} == {product["id"], elsewhere["id"]}
    in_shop = await api.get("/v1/audit", shop.manager, params=place("shop", shop.id))
    assert [(e["action"], e["resource_id"], e["actor_id"]) for e in in_shop.json()["items"]] == [
        ("product.created", product["id"], shop.manager.id)
    ]
    assert (await api.get("/v1/audit", mall_admin, params=place("shop", shop.id))).status_code == 200

    assert (await api.get("/v1/audit", shop.manager, params=place("mall", shop.mall_id))).status_code == 403
    assert (await api.get("/v1/audit", shop.other_manager, params=place("shop", shop.id))).status_code == 403
    assert (await api.get("/v1/audit", shop.employee, params=place("shop", shop.id))).status_code == 403
    assert (await api.get("/v1/audit", shop.customer, params=place("shop", shop.id))).status_code == 403
