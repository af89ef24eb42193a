"""The console in a real browser for a mall and a shop: the mall's admin watches cars, issues (and assigns
one from the page), who is clocked in and the seats left; two consoles at a shop see the order board move
as staff click an order on, and an ingredient running low."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.conftest import RunningServer
from tests.console.conftest import screenshot_path
from tests.console.test_society_console import SOON, _sign_in
from tests.helpers import Api, User


async def _open(page: Page, name: str) -> None:
    await page.get_by_role("button", name=re.compile(f"^{re.escape(name)}")).click()
    await expect(page.get_by_role("status")).to_have_text("Live", timeout=SOON)


async def test_a_mall_admin_watches_cars_issues_staff_and_seats(
    api: Api, admin: User, server: RunningServer, context: BrowserContext
) -> None:
    mall = await api.created("/v1/malls", {"name": f"Mall {uuid.uuid4().hex[:6]}", "timezone": "Asia/Kolkata"}, admin)
    cafe = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Corner Cafe", "shop_type": "cafe"}, admin)
    cinema = await api.created("/v1/cinemas", {"mall_id": mall["id"], "name": "Screens"}, admin)
    movie = await api.created(
        "/v1/movies", {"mall_id": mall["id"], "name": "Monsoon", "duration_minutes": 120, "ticket_price": 25000}, admin
    )
    chief, guard, barista = await api.signup("Priya"), await api.signup("Arjun"), await api.signup("Kiran")
    await api.grant(admin, chief, "mall_admin", "mall", mall["id"])
    await api.grant(admin, guard, "security", "mall", mall["id"])
    await api.grant(admin, barista, "employee", "shop", cafe["id"])

    page = await context.new_page()
    await _sign_in(page, server, chief)
    await expect(page.locator("#places")).to_contain_text("Corner Cafe")
    await _open(page, mall["name"])
    cars, issues = page.locator("#cars"), page.locator("#issues")

    await api.created("/v1/car-visits", {"mall_id": mall["id"], "plate": "KA01AB1234", "section": "B1"}, guard)
    await expect(cars).to_contain_text("KA01AB1234", timeout=SOON)
    await expect(cars).to_contain_text("Section B1")
    spill = await api.created(
        "/v1/issues", {"mall_id": mall["id"], "issue_type": "spill", "details": "Water by the escalator"}, guard
    )
    await expect(issues).to_contain_text("Water by the escalator", timeout=SOON)
    await page.get_by_label("Assign spill to").select_option(label="Arjun")
    await page.get_by_role("button", name="Assign spill").click()
    await expect(issues).to_contain_text("with Arjun", timeout=SOON)
    held = (await api.get(f"/v1/issues/{spill['id']}", guard)).json()
    assert (held["state"], held["assignees"]) == ("assigned", [guard.id])

    await api.created("/v1/attendance/clock-in", {"shop_id": cafe["id"]}, barista)
    await expect(page.locator("#clocked-in")).to_contain_text("Kiran", timeout=SOON)
    await expect(page.locator("#clocked-in")).to_contain_text("Corner Cafe")
    starts = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).isoformat()
    showing = await api.created(
        "/v1/showings", {"cinema_id": cinema["id"], "movie_id": movie["id"], "starts_at": starts, "seats": 10}, admin
    )
    await expect(page.locator("#showings")).to_contain_text("10 of 10 seats left", timeout=SOON)
    await api.created("/v1/ticket-checkouts", {"showing_id": showing["id"], "tickets": 3}, barista)
    await expect(page.locator("#showings")).to_contain_text("7 of 10 seats left", timeout=SOON)
    await page.screenshot(path=screenshot_path("mall"), full_page=True)

    left = await api.post("/v1/car-visits/exit", {"mall_id": mall["id"], "plate": "KA01AB1234"}, guard)
    assert left.status_code == 200, left.text
    await expect(cars).to_contain_text("No cars inside.", timeout=SOON)


async def test_two_consoles_share_a_shops_order_board(
    api: Api, admin: User, server: RunningServer, context: BrowserContext, browser: Browser
) -> None:
    mall = await api.created("/v1/malls", {"name": f"Mall {uuid.uuid4().hex[:6]}", "timezone": "Asia/Kolkata"}, admin)
    shop = await api.created("/v1/shops", {"mall_id": mall["id"], "name": "Bean Bar", "shop_type": "cafe"}, admin)
    manager, barista, customer = await api.signup("Manager"), await api.signup("Barista"), await api.signup("Dev")
    await api.grant(admin, manager, "shop_manager", "shop", shop["id"])
    await api.grant(admin, barista, "employee", "shop", shop["id"])
    tea = await api.created(
        "/v1/products", {"shop_id": shop["id"], "name": "Masala tea", "price": 4000, "stock": 9}, manager
    )
    milk = await api.created(
        f"/v1/shops/{shop['id']}/inventory",
        {"name": "Milk", "unit": "ml", "quantity": 1000, "reorder_threshold": 200, "supplier": "Dairy Co"},
        manager,
    )

    counter = await context.new_page()
    await _sign_in(counter, server, barista)
    await _open(counter, "Bean Bar")
    office_context = await browser.new_context()
    office = await office_context.new_page()
    await _sign_in(office, server, manager)
    await _open(office, "Bean Bar")

    added = await api.post("/v1/cart/items", {"product_id": tea["id"], "quantity": 2}, customer)
    assert added.status_code == 200, added.text
    order = await api.created("/v1/orders", {"shop_id": shop["id"]}, customer)
    number = order["id"][:6].upper()
    for page in (counter, office):
        await expect(page.locator("#orders-new")).to_contain_text(f"Order {number}", timeout=SOON)
        await expect(page.locator("#orders-new")).to_contain_text("awaiting payment")
    paid = await api.post(f"/v1/orders/{order['id']}/payments", {"method": "cash", "amount": order["total"]}, barista)
    assert paid.status_code == 201, paid.text

    for button, column in (("Start", "preparing"), ("Ready", "ready"), ("Hand over", "completed")):
        await counter.get_by_role("button", name=f"{button} order {number}").click(timeout=SOON)
        for page in (counter, office):
            await expect(page.locator(f"#orders-{column}")).to_contain_text(f"Order {number}", timeout=SOON)
    assert (await api.get(f"/v1/orders/{order['id']}", customer)).json()["status"] == "completed"

    wasted = await api.post(
        f"/v1/shops/{shop['id']}/inventory/{milk['id']}/moves", {"kind": "waste", "amount": 850}, barista
    )
    assert wasted.status_code == 200, wasted.text
    await expect(office.locator("#low-stock")).to_contain_text("150 ml left", timeout=SOON)
    await office.screenshot(path=screenshot_path("shop"), full_page=True)
    await office_context.close()
