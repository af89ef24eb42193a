"""The cafe's regulars without an account: the staff keep their records, ring up orders for them (which earn
and spend points the record holds), see their history, and later link a record to the account with its
phone or e-mail, when its orders and points go to that account. Only the shop's staff see or touch them."""

from __future__ import annotations

import asyncio
import uuid

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api, User


def _phone() -> tuple[str, str]:
    """One number written two ways: as the staff type it and as the customer does."""
    digits = f"9{uuid.uuid4().int % 10**9:09d}"
    return f"+91 {digits[:5]} {digits[5:]}", f"91{digits}"


async def _record(api: Api, shop: Shop, **body: object) -> dict:
    return await api.created(f"/v1/shops/{shop.id}/customers", {"name": "Meera Regular", **body}, shop.employee)


async def _order(api: Api, shop: Shop, record: dict, product: dict, **extra: object) -> dict:
    body = {"shop_id": shop.id, "items": [{"product_id": product["id"]}], "shop_customer_id": record["id"], **extra}
    return await api.created("/v1/orders", body, shop.employee)


async def _pay(api: Api, shop: Shop, order: dict) -> None:
    paid = await api.post(
        f"/v1/orders/{order['id']}/payments", {"method": "cash", "amount": order["total"]}, shop.employee
    )
    assert paid.status_code == 201, paid.text


async def _get(api: Api, shop: Shop, record: dict, user: User | None = None) -> dict:
    answer = await api.get(f"/v1/shops/{shop.id}/customers/{record['id']}", user or shop.employee)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_regular_without_an_account_earns_and_spends_points_and_has_a_history(api: Api, shop: Shop) -> None:
    typed, _ = _phone()
    record = await _record(api, shop, phone=typed, note="Oat milk, no sugar")
    assert (record["points"], record["user_id"], record["note"]) == (0, None, "Oat milk, no sugar")
    flat_white = await api.created("/v1/products", product_body(shop.id, "Regular flat white", 100000), shop.manager)

    first = await _order(api, shop, record, flat_white)
    assert (first["customer_id"], first["shop_customer_id"]) == (None, record["id"])
    await _pay(api, shop, first)
    earned = (await api.get(f"/v1/orders/{first['id']}", shop.employee)).json()["points_earned"]
    assert earned == 1050 and (await _get(api, shop, record))["points"] == 1050, "1 % of 105000"

    second = await _order(api, shop, record, flat_white, redeem_points=1000)
    assert second["points_redeemed"] == 1000 and (await _get(api, shop, record))["points"] == 50
    cancelled = await api.post(f"/v1/orders/{second['id']}/status", {"to": "cancelled"}, shop.employee)
    assert cancelled.status_code == 200 and (await _get(api, shop, record))["points"] == 1050, "spent points return"
    greedy = await api.post(
        "/v1/orders",
        {
            "shop_id": shop.id,
            "items": [{"product_id": flat_white["id"]}],
            "shop_customer_id": record["id"],
            "redeem_points": 5000,
        },
        shop.employee,
    )
    assert greedy.status_code == 409 and greedy.json()["error"]["code"] == "not_enough_points"

    history = await api.get("/v1/orders", shop.employee, params={"shop_id": shop.id, "shop_customer_id": record["id"]})
    assert [o["id"] for o in history.json()["items"]] == [second["id"], first["id"]]
    receipt = await api.get(f"/v1/orders/{first['id']}/receipt", shop.employee)
    assert receipt.status_code == 200


async def test_linking_a_record_hands_its_orders_and_points_to_the_account(api: Api, shop: Shop) -> None:
    typed, own_way = _phone()
    record = await _record(api, shop, phone=typed)
    latte = await api.created("/v1/products", product_body(shop.id, "Linked latte", 200000), shop.manager)
    before = await _order(api, shop, record, latte)
    await _pay(api, shop, before)
    points = (await _get(api, shop, record))["points"]
    assert points == 2100

    nobody = await api.post(f"/v1/shops/{shop.id}/customers/{record['id']}/link", None, shop.employee)
    assert nobody.status_code == 409 and nobody.json()["error"]["code"] == "no_account"

    person = await api.signup("Meera Signed Up", phone=own_way)
    for outsider in (person, shop.other_manager, shop.customer):
        refused = await api.post(f"/v1/shops/{shop.id}/customers/{record['id']}/link", None, outsider)
        assert refused.status_code == 403
    linked = await api.post(f"/v1/shops/{shop.id}/customers/{record['id']}/link", None, shop.employee)
    assert linked.status_code == 200, linked.text
    assert linked.json()["user_id"] == person.id and linked.json()["points"] == points, "no point is lost"
    again = await api.post(f"/v1/shops/{shop.id}/customers/{record['id']}/link", None, shop.manager)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_linked"

    balance = (await api.get("/v1/loyalty", person, params={"shop_id": shop.id})).json()
    assert balance["balance"] == points and balance["items"][0]["kind"] == "transfer"
    mine = (await api.get("/v1/orders", person)).json()["items"]
    assert [o["id"] for o in mine] == [before["id"]], "the record's orders are in the account's history"

    after = await _order(api, shop, record, latte)
    assert after["customer_id"] == person.id, "an order for a linked record is the account's"
    await _pay(api, shop, after)
    assert (await api.get("/v1/loyalty", person, params={"shop_id": shop.id})).json()["balance"] == points * 2
    history = await api.get("/v1/orders", shop.manager, params={"shop_id": shop.id, "shop_customer_id": record["id"]})
    assert [o["id"] for o in history.json()["items"]] == [after["id"], before["id"]]
    by_account = await api.get("/v1/orders", shop.manager, params={"shop_id": shop.id, "customer_id": person.id})
    assert [o["id"] for o in by_account.json()["items"]] == [after["id"], before["id"]]


async def test_a_record_links_to_exactly_one_account(api: Api, shop: Shop) -> None:
    typed, own_way = _phone()
    email = f"twice-{uuid.uuid4().hex[:8]}@example.com"
    record = await _record(api, shop, phone=typed, email=email)
    await api.signup("By Phone", phone=own_way)
    await api.signup("By Mail", email=email)
    both = await api.post(f"/v1/shops/{shop.id}/customers/{record['id']}/link", None, shop.employee)
    assert both.status_code == 409 and both.json()["error"]["code"] == "ambiguous_account"

    typed2, own_way2 = _phone()
    solo = await api.signup("Solo", phone=own_way2)
    first, second = await _record(api, shop, name="Solo A", phone=typed2), None
    changed = await api.client.patch(
        f"/v1/shops/{shop.id}/customers/{first['id']}",
        json={"phone": None, "email": solo.email},
        headers=shop.employee.headers,
    )
    assert changed.status_code == 200 and changed.json()["phone"] is None
    second = await _record(api, shop, name="Solo B", phone=typed2)
    racing = await asyncio.gather(
        *(api.post(f"/v1/shops/{shop.id}/customers/{r['id']}/link", None, shop.employee) for r in (first, second))
    )
    codes = sorted(r.status_code for r in racing)
    assert codes == [200, 409], [r.text for r in racing]
    assert [r.json()["error"]["code"] for r in racing if r.status_code == 409] == ["account_has_record"]


async def test_records_are_found_kept_unique_and_the_staffs_alone(api: Api, shop: Shop) -> None:
    typed, own_way = _phone()
    tag = uuid.uuid4().hex[:6]
    kept = await _record(api, shop, name=f"Zed {tag} Kumar", phone=typed, email=f"zed-{tag}@example.com")
    same_number = await api.post(f"/v1/shops/{shop.id}/customers", {"name": "Someone", "phone": own_way}, shop.employee)
    assert same_number.status_code == 409 and same_number.json()["error"]["code"] == "duplicate_customer"
    elsewhere = await api.post(
        f"/v1/shops/{shop.other_id}/customers", {"name": "Zed", "phone": typed}, shop.other_manager
    )
    assert elsewhere.status_code == 201, "another shop keeps its own"

    async def found(q: str) -> list[str]:
        answer = await api.get(f"/v1/shops/{shop.id}/customers", shop.employee, params={"q": q})
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["items"]]

    assert await found(f"zed {tag}") == [kept["id"]]
    assert await found(own_way[2:9]) == [kept["id"]], "the phone's digits, however written"
    assert await found(f"ZED-{tag}@") == [kept["id"]]
    assert await found("'; DROP TABLE shop_customers; --") == [] and await found("%") == []

    for bad in (
        {},
        {"name": ""},
        {"name": "x", "phone": "call me"},
        {"name": "x", "email": "nope"},
        {"name": "x", "note": "y" * 1001},
        {"name": 5},
    ):
        assert (await api.post(f"/v1/shops/{shop.id}/customers", bad, shop.employee)).status_code == 422, bad
    for outsider in (shop.customer, shop.other_manager):
        assert (await api.post(f"/v1/shops/{shop.id}/customers", {"name": "x"}, outsider)).status_code == 403
        assert (await api.get(f"/v1/shops/{shop.id}/customers", outsider)).status_code == 403
        assert (await api.get(f"/v1/shops/{shop.id}/customers/{kept['id']}", outsider)).status_code == 403
    assert (await api.get(f"/v1/shops/{shop.other_id}/customers/{kept['id']}", shop.other_manager)).status_code == 404
    assert (await api.get(f"/v1/shops/{uuid.uuid4()}/customers", shop.employee)).status_code in (403, 404)

    flat_white = await api.created("/v1/products", product_body(shop.id, "Nosy flat white", 1000), shop.manager)
    foreign = await api.post(
        "/v1/orders",
        {"shop_id": shop.id, "items": [{"product_id": flat_white["id"]}], "shop_customer_id": elsewhere.json()["id"]},
        shop.employee,
    )
    assert foreign.status_code == 422 and foreign.json()["error"]["code"] == "unknown_customer"
    both = await api.post(
        "/v1/orders",
        {
            "shop_id": shop.id,
            "items": [{"product_id": flat_white["id"]}],
            "shop_customer_id": kept["id"],
            "customer_id": shop.customer.id,
        },
        shop.employee,
    )
    assert both.status_code == 422 and both.json()["error"]["code"] == "two_customers"
    peek = await api.get("/v1/orders", shop.customer, params={"shop_id": shop.id, "shop_customer_id": kept["id"]})
    assert peek.status_code == 403
