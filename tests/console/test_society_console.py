"""The console in a real browser, for a society: a society admin signs in, picks the society, and watches
visitors arrive, get answered and come in, live; after a network drop the page catches up through `sync`;
new residents are approved from the page; a revoked role and an outsider see nothing of the society."""

from __future__ import annotations

import re

from playwright.async_api import Browser, BrowserContext, Page, WebSocketRoute, expect

from tests.conftest import RunningServer
from tests.console.conftest import screenshot_path
from tests.helpers import PASSWORD, Api, Society, User

SOON = 10_000  # ms a page may take to show what happened (the network, not a promise of speed)


async def _sign_in(page: Page, server: RunningServer, user: User) -> None:
    await page.goto(f"{server.url}/console/")
    await page.get_by_label("E-mail").fill(user.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Your places")).to_be_visible(timeout=SOON)


async def _people(api: Api, admin: User) -> tuple[Society, User, User, User]:
    society = await api.society(admin, flats=2)
    chair, guard, resident = await api.signup("Console Chair"), await api.signup("Gate Guard"), await api.signup("Asha")
    await api.grant(admin, chair, "society_admin", "society", society.id)
    await api.grant(admin, guard, "guard", "society", society.id)
    await api.grant(admin, resident, "resident", "flat", society.flats[0])
    return society, chair, guard, resident


async def _walk_in(api: Api, guard: User, flat_id: str, name: str) -> dict:
    return await api.created("/v1/visitors", {"flat_id": flat_id, "name": name, "purpose": "delivery"}, guard)


async def test_a_society_admin_watches_the_gate_live_and_catches_up_after_a_drop(
    api: Api, admin: User, server: RunningServer, context: BrowserContext
) -> None:
    society, chair, guard, resident = await _people(api, admin)
    dropped = [False]
    sockets: list[WebSocketRoute] = []

    async def through(ws: WebSocketRoute) -> None:
        if dropped[0]:
            await ws.close()  # no network: the connection fails at once
            return
        sockets.append(ws)
        ws.connect_to_server()

    page = await context.new_page()
    await page.route_web_socket(re.compile(r".*/socket\.io/.*"), through)
    await _sign_in(page, server, chair)
    await page.screenshot(path=screenshot_path("places"))
    await page.get_by_role("button", name=re.compile(r"^Society ")).click()
    status = page.get_by_role("status")
    await expect(status).to_have_text("Live", timeout=SOON)
    at_gate, answered, inside = page.locator("#at-gate"), page.locator("#answered"), page.locator("#inside")

    parcel = await _walk_in(api, guard, society.flats[0], "Parcel Courier")
    await expect(at_gate.get_by_text("Parcel Courier")).to_be_visible(timeout=SOON)
    await expect(at_gate).to_contain_text("Flat 101, Block 1, Tower A")
    answer = await api.post(f"/v1/visitors/{parcel['id']}/respond", {"decision": "approve"}, resident)
    assert answer.status_code == 200, answer.text
    await expect(answered.get_by_text("Parcel Courier")).to_be_visible(timeout=SOON)
    await expect(answered).to_contain_text("by Asha")
    await expect(at_gate.get_by_text("Parcel Courier")).to_have_count(0)
    await page.screenshot(path=screenshot_path("society"), full_page=True)

    dropped[0] = True
    await context.set_offline(True)
    for ws in sockets:
        await ws.close()
    await expect(status).to_have_text("Reconnecting…", timeout=SOON)
    checked_in = await api.post("/v1/visits/checkin", {"visitor_id": parcel["id"]}, guard)
    assert checked_in.status_code == 201, checked_in.text
    await _walk_in(api, guard, society.flats[1], "Plumber Prakash")
    await expect(inside.get_by_text("Parcel Courier")).to_have_count(0)

    dropped[0] = False
    await context.set_offline(False)
    await expect(status).to_have_text("Live", timeout=30_000)
    await expect(inside.get_by_text("Parcel Courier")).to_be_visible(timeout=SOON)
    await expect(at_gate.get_by_text("Plumber Prakash")).to_be_visible(timeout=SOON)
    await expect(at_gate).to_contain_text("Flat 102")


async def test_new_residents_are_approved_from_the_page(
    api: Api, admin: User, server: RunningServer, context: BrowserContext
) -> None:
    society, chair, _, _ = await _people(api, admin)
    newcomer = await api.signup("Newcomer Nila")
    page = await context.new_page()
    await _sign_in(page, server, chair)
    await page.get_by_role("button", name=re.compile(r"^Society ")).click()
    await expect(page.get_by_role("status")).to_have_text("Live", timeout=SOON)

    asked = await api.post("/v1/resident-requests", {"flat_id": society.flats[1], "relation": "tenant"}, newcomer)
    assert asked.status_code == 201, asked.text
    approve = page.get_by_role("button", name="Approve Newcomer Nila")
    await expect(approve).to_be_visible(timeout=SOON)
    await approve.press("Enter")  # by keyboard, as a tablet's or a screen reader's user may
    await expect(approve).to_have_count(0, timeout=SOON)
    flats = (await api.get("/v1/profile/me", newcomer)).json()["flats"]
    assert [(f["id"], f["role"]) for f in flats] == [(society.flats[1], "resident")]


async def test_a_revoked_role_closes_the_panel_and_an_outsider_sees_nothing(
    api: Api, admin: User, server: RunningServer, context: BrowserContext, browser: Browser
) -> None:
    society, chair, guard, _ = await _people(api, admin)
    other = await api.society(admin, flats=1)
    outsider = await api.signup("Other Resident")
    await api.grant(admin, outsider, "resident", "flat", other.flats[0])
    await _walk_in(api, guard, society.flats[0], "Secret Visitor")

    elsewhere = await browser.new_context()
    stranger = await elsewhere.new_page()
    await _sign_in(stranger, server, outsider)
    await expect(stranger.locator("#places")).to_contain_text("You hold no role on a place this console shows.")
    await stranger.goto(f"{server.url}/console/#society/{society.id}")
    await expect(stranger.get_by_role("heading", name="Your places")).to_be_visible(timeout=SOON)
    assert "Secret Visitor" not in await stranger.content()
    await elsewhere.close()

    page = await context.new_page()
    await _sign_in(page, server, chair)
    await page.get_by_role("button", name=re.compile(r"^Society ")).click()
    await expect(page.locator("#at-gate").get_by_text("Secret Visitor")).to_be_visible(timeout=SOON)
    held = await api.get("/v1/role-assignments", admin, params={"scope_type": "society", "scope_id": society.id})
    (role,) = [a for a in held.json()["items"] if a["user_id"] == chair.id and a["role"] == "society_admin"]
    revoked = await api.client.delete(f"/v1/admin/role-assignments/{role['id']}", headers=admin.headers)
    assert revoked.status_code == 204, revoked.text
    await expect(page.get_by_role("alert")).to_contain_text("society admin role here was taken away", timeout=SOON)
    await expect(page.get_by_role("heading", name="Your places")).to_be_visible()
    assert "Secret Visitor" not in await page.content()
