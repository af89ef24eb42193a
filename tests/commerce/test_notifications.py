"""Telling customers off the app: the news of their orders by e-mail and push, receipts by e-mail,
and shops' promotions to those who opted in, with a link that unsubscribes without signing in.

A second server runs the jobs with SMTP_HOST pointing at a local SMTP server (tests/mailbox.py) and its
pushes going through firebase-admin to a local Google (tests/fcm.py); nothing in aiosmtplib or
firebase-admin is replaced.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from pypdf import PdfReader

from app.platform.config import ConfigError, Settings, load_settings
from app.platform.db import Database
from tests.commerce.conftest import Shop, product_body
from tests.conftest import RunningServer
from tests.fcm import LocalGoogle, local_google
from tests.helpers import Api, User, settle
from tests.mailbox import Mailbox, attachments_of, mailbox, text_of

__all__ = ["mailbox"]  # the fixture, used by name


@pytest.fixture(scope="module")
async def google(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[LocalGoogle, dict]]:
    async with local_google(tmp_path_factory.mktemp("fcm")) as found:
        yield found


@pytest.fixture(scope="module")
async def mail_api(settings: Settings, mailbox: Mailbox, google: tuple[LocalGoogle, dict]) -> AsyncIterator[Api]:
    server = RunningServer(
        replace(
            settings,
            **google[1],
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_security="none",
            mail_from="Gatehouse Shops <shops@gatehouse.test>",
            public_url="https://shops.gatehouse.test",
            allow_insecure_dev=True,
            run_jobs=True,
        )
    )
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)
    await server.stop()


async def _phone(api: Api, user: User) -> str:
    token = f"phone-{uuid.uuid4().hex}"
    answer = await api.post("/v1/me/devices", {"fcm_token": token, "platform": "android"}, user)
    assert answer.status_code == 204, answer.text
    return token


async def _counter_order(api: Api, shop: Shop, customer: User | None, price: int = 15000) -> dict:
    product = await api.created(
        "/v1/products", product_body(shop.id, f"Mocha {uuid.uuid4().hex[:4]}", price), shop.manager
    )
    body = {"shop_id": shop.id, "items": [{"product_id": product["id"], "quantity": 2}]}
    if customer is not None:
        body["customer_id"] = customer.id
    return await api.created("/v1/orders", body, shop.employee)


async def _pay(api: Api, shop: Shop, order: dict) -> None:
    paid = await api.post(
        f"/v1/orders/{order['id']}/payments", {"method": "cash", "amount": order["total"]}, shop.employee
    )
    assert paid.status_code == 201, paid.text


async def _pushes(google: LocalGoogle, token: str, status: str, count: int = 1) -> list[dict]:
    for _ in range(150):
        found = [m for m in google.messages_to(token) if m["body"]["message"]["data"].get("status") == status]
        if len(found) >= count:
            return found
        await settle(0.1)
    raise AssertionError(f"no push for {status} reached {token}")


async def _logged(db: Database, order_id: str, count: int) -> list[tuple[str, str, str]]:
    """The (channel, template, outcome) of each attempt about the order, once `count` are logged (a job
    logs its attempts just after the servers took them)."""
    for _ in range(50):
        async with db.connection() as conn:
            rows = await conn.fetch(
                "SELECT channel, template, outcome FROM notification_logs WHERE resource_type = 'order' "
                "AND resource_id = $1 ORDER BY id",
                order_id,
            )
        if len(rows) >= count:
            break
        await settle(0.1)
    return [(r["channel"], r["template"], r["outcome"]) for r in rows]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_each_step_of_an_order_reaches_its_customer_by_email_and_push(
    mail_api: Api, shop: Shop, mailbox: Mailbox, google: tuple[LocalGoogle, dict], db: Database
) -> None:
    api, local = mail_api, google[0]
    token = await _phone(api, shop.customer)
    order = await _counter_order(api, shop, shop.customer)
    short = order["id"][:8].upper()

    placed = (await mailbox.wait_for(shop.customer.email, f"{short} at Corner Cafe is placed"))[0]
    assert placed["From"] == "Gatehouse Shops <shops@gatehouse.test>"
    assert "2 x Mocha" in text_of(placed) and "List-Unsubscribe" not in placed, "order news is no promotion"
    await _pushes(local, token, "pending")

    await _pay(api, shop, order)
    paid = (await mailbox.wait_for(shop.customer.email, f"{short} at Corner Cafe is paid"))[0]
    files = attachments_of(paid)
    assert list(files) == [f"receipt-{order['id']}.pdf"]
    receipt = _pdf_text(files[f"receipt-{order['id']}.pdf"])
    assert "Corner Cafe" in receipt and order["id"] in receipt and "Paid by cash" in receipt
    assert f"https://shops.gatehouse.test/v1/orders/{order['id']}/receipt" in text_of(paid)
    push = (await _pushes(local, token, "paid"))[0]["body"]["message"]
    assert push["data"] == {"type": "order_status", "order_id": order["id"], "status": "paid"}
    assert push["notification"]["title"].endswith("is paid")

    moved = await api.post(f"/v1/orders/{order['id']}/status", {"to": "preparing"}, shop.employee)
    assert moved.status_code == 200, moved.text
    await mailbox.wait_for(shop.customer.email, f"{short} at Corner Cafe is being prepared")
    await _pushes(local, token, "preparing")

    logged = await _logged(db, order["id"], 6)
    for status in ("pending", "paid", "preparing"):
        assert {("email", f"order_{status}", "sent"), ("push", f"order_{status}", "sent")} <= set(logged)
    assert len(logged) == 6, "each message went once"
    assert len(mailbox.to(shop.customer.email, short)) == 3
    assert mailbox.to(shop.other_customer.email) == [], "nobody else hears of it"


async def test_a_customer_hears_only_on_the_channels_they_kept(
    mail_api: Api, shop: Shop, mailbox: Mailbox, google: tuple[LocalGoogle, dict]
) -> None:
    api, local = mail_api, google[0]
    customer = shop.other_customer
    token = await _phone(api, customer)
    fresh = await api.get("/v1/me/notification-preferences", customer)
    assert fresh.json() == {
        "order_emails": True,
        "order_pushes": True,
        "promotions": False,
        "promotions_changed_at": None,
    }
    quiet = await api.client.patch(
        "/v1/me/notification-preferences", json={"order_emails": False}, headers=customer.headers
    )
    assert quiet.status_code == 200 and quiet.json()["order_emails"] is False and quiet.json()["order_pushes"]

    order = await _counter_order(api, shop, customer)
    await _pushes(local, token, "pending")
    await settle(0.5)
    assert mailbox.to(customer.email) == [], "e-mails were turned off"

    await api.client.patch(
        "/v1/me/notification-preferences",
        json={"order_emails": True, "order_pushes": False},
        headers=customer.headers,
    )
    await _pay(api, shop, order)
    await mailbox.wait_for(customer.email, "is paid")
    await settle(0.3)
    assert [m for m in local.messages_to(token) if m["body"]["message"]["data"]["status"] == "paid"] == []


async def test_a_refused_email_is_sent_again_without_pushing_twice(
    mail_api: Api, shop: Shop, mailbox: Mailbox, google: tuple[LocalGoogle, dict], db: Database
) -> None:
    api, local = mail_api, google[0]
    customer = await api.signup("Retry Customer")
    token = await _phone(api, customer)
    mailbox.refuse_next, refused_before = 1, mailbox.refused
    order = await _counter_order(api, shop, customer)

    await mailbox.wait_for(customer.email, "is placed", timeout=30)
    assert mailbox.refused == refused_before + 1, "the first try met the refusal"
    assert len(await _pushes(local, token, "pending")) == 1
    assert await _logged(db, order["id"], 3) == [
        ("email", "order_pending", "failed"),
        ("push", "order_pending", "sent"),
        ("email", "order_pending", "sent"),
    ]


async def test_a_receipt_is_emailed_on_request_by_its_customer_or_the_staff(
    mail_api: Api, shop: Shop, mailbox: Mailbox
) -> None:
    api = mail_api
    customer = await api.signup("Receipt Customer")
    order = await _counter_order(api, shop, customer)
    unpaid = await api.post(f"/v1/orders/{order['id']}/receipt/email", None, shop.employee)
    assert unpaid.status_code == 409 and unpaid.json()["error"]["code"] == "not_paid"
    await _pay(api, shop, order)
    await mailbox.wait_for(customer.email, "is paid")

    for outsider in (shop.other_customer, shop.other_manager):
        hidden = await api.post(f"/v1/orders/{order['id']}/receipt/email", None, outsider)
        assert hidden.status_code == 404
    asked = await api.post(f"/v1/orders/{order['id']}/receipt/email", None, shop.employee)
    assert asked.status_code == 202 and asked.json() == {"status": "queued"}
    again = await api.post(f"/v1/orders/{order['id']}/receipt/email", None, customer)
    assert again.status_code == 202
    receipts = await mailbox.wait_for(customer.email, "Your receipt from Corner Cafe", count=2)
    text = _pdf_text(attachments_of(receipts[0])[f"receipt-{order['id']}.pdf"])
    assert order["id"] in text and "Paid by cash" in text

    walk_in = await _counter_order(api, shop, None)
    await _pay(api, shop, walk_in)
    nobody = await api.post(f"/v1/orders/{walk_in['id']}/receipt/email", None, shop.employee)
    assert nobody.status_code == 409 and nobody.json()["error"]["code"] == "no_email"
    missing = await api.post(f"/v1/orders/{uuid.uuid4()}/receipt/email", None, shop.employee)
    assert missing.status_code == 404


async def test_promotions_reach_only_opted_in_customers_who_can_unsubscribe_without_signing_in(
    mail_api: Api, shop: Shop, mailbox: Mailbox, db: Database
) -> None:
    api = mail_api
    keen, shy = await api.signup("Keen Customer"), await api.signup("Shy Customer")
    for customer in (keen, shy):
        await _counter_order(api, shop, customer)
    opted = await api.client.patch("/v1/me/notification-preferences", json={"promotions": True}, headers=keen.headers)
    assert opted.json()["promotions"] is True and opted.json()["promotions_changed_at"] is not None

    body = {"subject": "Two for one on Fridays", "body": "Bring a friend: the second coffee is on us."}
    for outsider in (shop.employee, shop.other_manager, keen):
        assert (await api.post(f"/v1/shops/{shop.id}/promotions", body, outsider)).status_code == 403
    for bad, status in (
        ({"subject": "", "body": "x"}, 422),
        ({"subject": "x"}, 422),
        ({"subject": "x", "body": "y" * 5001}, 422),
        ({"subject": "'; DROP TABLE promotions; --", "body": 7}, 422),
        ([], 400),
    ):
        answer = await api.post(f"/v1/shops/{shop.id}/promotions", bad, shop.manager)
        assert answer.status_code == status, answer.text
    promotion = await api.created(f"/v1/shops/{shop.id}/promotions", body, shop.manager)
    assert promotion["status"] == "sending" and promotion["audience"] >= 1

    message = (await mailbox.wait_for(keen.email, "Corner Cafe: Two for one on Fridays"))[0]
    assert "the second coffee is on us" in text_of(message)
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert link.startswith("https://shops.gatehouse.test/v1/unsubscribe/") and link in text_of(message)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    await settle(0.5)
    assert mailbox.to(shy.email, "Two for one") == [], "no consent, no promotion"

    path = link.removeprefix("https://shops.gatehouse.test")
    async with httpx.AsyncClient(base_url=api.url) as stranger:  # no sign-in, no cookie
        page = await stranger.get(path)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"] and "<form" in page.text
        assert (await api.get("/v1/me/notification-preferences", keen)).json()["promotions"], "opening asks first"
        done = await stranger.post(
            path, content=b"List-Unsubscribe=One-Click", headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert done.status_code == 200 and "unsubscribed" in done.text
        assert (await stranger.post(path)).status_code == 200, "again is fine"
        user_hex, _, mac = path.rsplit("/", 1)[1].partition(".")
        for forged in (f"{uuid.UUID(shy.id).hex}.{mac}", f"{user_hex}.{'A' * len(mac)}", "not-a-token", f"{user_hex}"):
            wrong = await stranger.post(f"/v1/unsubscribe/{forged}")
            assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "invalid_unsubscribe_link"
    assert (await api.get("/v1/me/notification-preferences", keen)).json()["promotions"] is False

    second = await api.created(
        f"/v1/shops/{shop.id}/promotions", {"subject": "Quiet week", "body": "..."}, shop.manager
    )
    assert second["audience"] == promotion["audience"] - 1
    listed = await api.get(f"/v1/shops/{shop.id}/promotions", shop.manager)
    assert [p["id"] for p in listed.json()["items"]][:2] == [second["id"], promotion["id"]]
    assert (await api.get(f"/v1/shops/{shop.id}/promotions", shop.employee)).status_code == 403
    for _ in range(100):
        async with db.connection() as conn:
            if await conn.fetchval("SELECT status FROM promotions WHERE id = $1", second["id"]) == "sent":
                break
        await settle(0.1)
    assert mailbox.to(keen.email, "Quiet week") == [], "unsubscribed"


async def test_preferences_and_phones_refuse_bad_input_and_strangers(mail_api: Api, shop: Shop) -> None:
    api = mail_api
    for bad, status in (
        ({"promotions": "yes please"}, 422),
        ({"order_emails": None}, 422),
        (["promotions"], 400),
    ):
        answer = await api.client.patch("/v1/me/notification-preferences", json=bad, headers=shop.customer.headers)
        assert answer.status_code == status, (bad, answer.text)
    assert (await api.get("/v1/me/notification-preferences")).status_code == 401
    for bad in (
        {"fcm_token": "", "platform": "android"},
        {"fcm_token": "x", "platform": "fax"},
        {"fcm_token": "x" * 4097, "platform": "ios"},
    ):
        assert (await api.post("/v1/me/devices", bad, shop.customer)).status_code == 422
    assert (await api.post("/v1/me/devices", {"fcm_token": "x", "platform": "ios"})).status_code == 401


def test_smtp_settings_are_checked_at_start() -> None:
    for env, message in (
        ({"SMTP_SECURITY": "ssl3"}, "SMTP_SECURITY"),
        ({"MAIL_FROM": "nobody"}, "MAIL_FROM"),
        ({"PUBLIC_URL": "shops.example.com"}, "PUBLIC_URL"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_settings({"JWT_SECRET": "x" * 40, **env})


async def test_two_changes_to_preferences_at_once_both_land(mail_api: Api) -> None:
    api = mail_api
    user = await api.signup("Two Minds")
    for _ in range(5):
        await asyncio.gather(
            api.client.patch("/v1/me/notification-preferences", json={"order_emails": False}, headers=user.headers),
            api.client.patch("/v1/me/notification-preferences", json={"promotions": True}, headers=user.headers),
        )
        kept = (await api.get("/v1/me/notification-preferences", user)).json()
        assert (kept["order_emails"], kept["order_pushes"], kept["promotions"]) == (False, True, True)
        assert kept["promotions_changed_at"] is not None
        await asyncio.gather(
            api.client.patch("/v1/me/notification-preferences", json={"order_emails": True}, headers=user.headers),
            api.client.patch("/v1/me/notification-preferences", json={"promotions": False}, headers=user.headers),
        )
        kept = (await api.get("/v1/me/notification-preferences", user)).json()
        assert (kept["order_emails"], kept["promotions"]) == (True, False)
