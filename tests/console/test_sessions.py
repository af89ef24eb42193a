"""The console's session: a page reload keeps it (through the refresh cookie), signing out ends it, and a
session ended elsewhere (a password change on the phone) closes the page's socket and says so."""

from __future__ import annotations

import re

from playwright.async_api import BrowserContext, expect

from tests.conftest import RunningServer
from tests.console.conftest import screenshot_path
from tests.console.test_society_console import SOON, _people, _sign_in
from tests.helpers import PASSWORD, Api, User


async def test_a_reload_keeps_the_session_and_signing_out_ends_it(
    api: Api, admin: User, server: RunningServer, context: BrowserContext
) -> None:
    _, chair, _, _ = await _people(api, admin)
    page = await context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    await page.goto(f"{server.url}/console/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=SOON)
    assert failed == [], "a first visit asks for no session it cannot have"
    await page.screenshot(path=screenshot_path("sign-in"))
    await page.get_by_label("E-mail").fill(chair.email)
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#sign-in-error")).to_have_text("Wrong e-mail or password.", timeout=SOON)

    await _sign_in(page, server, chair)
    await page.get_by_role("button", name=re.compile(r"^Society ")).click()
    await expect(page.get_by_role("status")).to_have_text("Live", timeout=SOON)
    await page.reload()
    await expect(page.get_by_role("status")).to_have_text("Live", timeout=SOON)
    await expect(page.locator("#at-gate")).to_be_visible()

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("alert").first).to_have_text("You have signed out.", timeout=SOON)
    failed.clear()
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=SOON)
    assert not [c for c in await context.cookies() if c["name"] in ("gh_access", "gh_refresh")]
    assert failed == [], "nor does a page signed out"


async def test_a_session_ended_elsewhere_closes_the_page(
    api: Api, admin: User, server: RunningServer, context: BrowserContext
) -> None:
    _, chair, _, _ = await _people(api, admin)
    page = await context.new_page()
    await _sign_in(page, server, chair)
    await page.get_by_role("button", name=re.compile(r"^Society ")).click()
    await expect(page.get_by_role("status")).to_have_text("Live", timeout=SOON)

    changed = await api.post(
        "/v1/profile/me/password", {"current_password": PASSWORD, "new_password": "a-brand-new-password-9"}, chair
    )
    assert changed.status_code == 204, changed.text
    await expect(page.get_by_role("alert").first).to_have_text("Your session has ended. Sign in again.", timeout=SOON)
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("status")).to_have_text("Offline")
