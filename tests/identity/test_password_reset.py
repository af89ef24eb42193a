"""Password reset by emailed code, through the webhook notifier and a real local gateway."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from aiohttp import web

from tests.conftest import RunningServer, free_port
from tests.helpers import PASSWORD, Api


class Gateway:
    """A stand-in email/SMS gateway: a real HTTP endpoint that keeps what it was sent."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.arrived = asyncio.Event()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/send"

    async def handle(self, request: web.Request) -> web.Response:
        self.messages.append(await request.json())
        self.arrived.set()
        return web.json_response({"queued": True})

    def code_for(self, email: str) -> str:
        sent = [m for m in self.messages if m["to"] == email and m["template"] == "password_reset"]
        return sent[-1]["data"]["code"]

    async def wait_for(self, email: str) -> str:
        for _ in range(100):
            if any(m["to"] == email for m in self.messages):
                return self.code_for(email)
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), 0.1)
        raise AssertionError(f"no message reached the gateway for {email}")


@pytest.fixture(scope="module")
async def gateway() -> AsyncIterator[Gateway]:
    gw = Gateway()
    app = web.Application()
    app.router.add_post("/send", gw.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", gw.port).start()
    yield gw
    await runner.cleanup()


@pytest.fixture(scope="module")
async def reset_api(settings, gateway: Gateway) -> AsyncIterator[Api]:
    server = RunningServer(replace(settings, notify_webhook_url=gateway.url))
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)
    await server.stop()


async def test_reset_with_the_emailed_code_sets_the_password_and_ends_sessions(reset_api: Api, gateway) -> None:
    api = reset_api
    user = await api.signup()
    requested = await api.post("/v1/auth/password-reset/request", {"email": user.email})
    assert requested.status_code == 202
    code = await gateway.wait_for(user.email)
    assert len(code) == 6 and code.isdigit()
    confirm = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "brand-new-password"}
    )
    assert confirm.status_code == 204
    # Old sessions are over, the old password is gone, the new one works.
    assert (await api.get("/v1/profile/me", user)).status_code == 401
    assert (await api.post("/v1/auth/refresh", {"refresh_token": user.refresh_token})).status_code == 401
    assert (await api.post("/v1/auth/login", {"email": user.email, "password": PASSWORD})).status_code == 401
    relogin = await api.post("/v1/auth/login", {"email": user.email, "password": "brand-new-password"})
    assert relogin.status_code == 200
    # The code is single use.
    again = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "another-password"}
    )
    assert again.status_code == 422


async def test_unknown_email_gets_the_same_202_and_nothing_is_sent(reset_api: Api, gateway) -> None:
    response = await reset_api.post("/v1/auth/password-reset/request", {"email": "nobody-at-all@example.com"})
    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    await asyncio.sleep(0.3)
    assert all(m["to"] != "nobody-at-all@example.com" for m in gateway.messages)


async def test_wrong_codes_are_counted_and_five_end_the_code(reset_api: Api, gateway, db) -> None:
    api = reset_api
    user = await api.signup()
    await api.post("/v1/auth/password-reset/request", {"email": user.email})
    code = await gateway.wait_for(user.email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        response = await api.post(
            "/v1/auth/password-reset/confirm",
            {"email": user.email, "code": wrong, "new_password": "brand-new-password"},
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_reset_code"
    # After five misses even the right code is refused.
    late = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "brand-new-password"}
    )
    assert late.status_code == 422
    async with db.connection() as conn:
        attempts = await conn.fetchval(
            "SELECT p.attempts FROM password_resets p JOIN users u ON u.id = p.user_id WHERE u.email = $1", user.email
        )
        stored = await conn.fetchval(
            "SELECT count(*) FROM password_resets p JOIN users u ON u.id = p.user_id WHERE p.code_hash = $1::bytea",
            code.encode(),
        )
    assert attempts == 5
    assert stored == 0  # the code is kept only as a keyed hash


async def test_a_new_request_replaces_the_earlier_code(reset_api: Api, gateway) -> None:
    api = reset_api
    user = await api.signup()
    await api.post("/v1/auth/password-reset/request", {"email": user.email})
    first = await gateway.wait_for(user.email)
    gateway.messages = [m for m in gateway.messages if m["to"] != user.email]
    await api.post("/v1/auth/password-reset/request", {"email": user.email})
    second = await gateway.wait_for(user.email)
    if first != second:
        stale = await api.post(
            "/v1/auth/password-reset/confirm",
            {"email": user.email, "code": first, "new_password": "brand-new-password"},
        )
        assert stale.status_code == 422
    fresh = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": second, "new_password": "brand-new-password"}
    )
    assert fresh.status_code == 204
