"""Receipts: a paid order's PDF, read back as text: the shop, each line with its options, the offer and
points, the tax, the total, the payment and the points earned; for its customer and the shop's staff only,
and only once paid."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.commerce.conftest import Shop, product_body
from tests.helpers import Api


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_a_paid_orders_receipt_says_what_was_bought_and_paid(api: Api, shop: Shop) -> None:
    coffee = await api.created(
        "/v1/products",
        product_body(
            shop.id,
            "Café latte",
            20000,
            modifier_groups=[
                {"name": "Milk", "min_choices": 0, "max_choices": 1, "options": [{"name": "Oat", "price_delta": 3000}]}
            ],
        ),
        shop.manager,
    )
    oat = coffee["modifier_groups"][0]["options"][0]["id"]
    line = {"product_id": coffee["id"], "option_ids": [oat], "quantity": 2}
    order = await api.created(
        "/v1/orders", {"shop_id": shop.id, "items": [line], "customer_id": shop.customer.id}, shop.employee
    )
    unpaid = await api.get(f"/v1/orders/{order['id']}/receipt", shop.customer)
    assert unpaid.status_code == 409 and unpaid.json()["error"]["code"] == "not_paid"
    paid = await api.post(
        f"/v1/orders/{order['id']}/payments", {"method": "card", "amount": order["total"]}, shop.employee
    )
    assert paid.status_code == 201, paid.text
    earned = (await api.get(f"/v1/orders/{order['id']}", shop.customer)).json()["points_earned"]

    response = await api.get(f"/v1/orders/{order['id']}/receipt", shop.customer)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = _text(response.content)
    assert "Corner Cafe" in text and order["id"] in text
    assert "2 x Café latte" in text and "Oat" in text, "Latin-1 names print as they are"
    assert f"{order['total'] // 100:,}.{order['total'] % 100:02d} INR" in text
    assert "Paid by card" in text
    assert (f"Loyalty points earned: {earned}" in text) == bool(earned)
    staff = await api.get(f"/v1/orders/{order['id']}/receipt", shop.manager)
    assert staff.status_code == 200
    for outsider in (shop.other_customer, shop.other_manager):
        assert (await api.get(f"/v1/orders/{order['id']}/receipt", outsider)).status_code == 404


async def test_names_beyond_latin_1_do_not_break_a_receipt(api: Api, shop: Shop) -> None:
    chai = await api.created("/v1/products", product_body(shop.id, "चाय Chai", 5000), shop.manager)
    order = await api.created("/v1/orders", {"shop_id": shop.id, "items": [{"product_id": chai["id"]}]}, shop.employee)
    wallet = await api.post(
        f"/v1/orders/{order['id']}/payments", {"method": "wallet", "amount": order["total"]}, shop.employee
    )
    assert wallet.status_code == 201 and wallet.json()["method"] == "wallet", wallet.text
    response = await api.get(f"/v1/orders/{order['id']}/receipt", shop.employee)
    assert response.status_code == 200
    text = _text(response.content)
    assert "Chai" in text and "Paid by wallet" in text
    sales = await api.get(f"/v1/shops/{shop.id}/sales", shop.manager)
    assert [m["method"] for m in sales.json()["payments"]] == ["wallet"]
