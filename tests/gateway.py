"""A stand-in for the email/SMS/WhatsApp gateway behind NOTIFY_WEBHOOK_URL: a real local HTTP endpoint."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from aiohttp import web

from tests.conftest import RunningServer, free_port
from tests.helpers import Api


class Gateway:
    """A stand-in email/SMS gateway: a real HTTP endpoint that keeps what it was sent."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.refused: list[dict] = []
        self.refuse_next = 0  # answer this many of the next messages with a 503, as a gateway in trouble does
        self.arrived = asyncio.Event()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/send"

    async def handle(self, request: web.Request) -> web.Response:
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused.append(await request.json())
            return web.json_response({"error": "try later"}, status=503)
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
async def notify_api(settings, gateway: Gateway) -> AsyncIterator[Api]:
    """A server whose messages go to the stand-in gateway, and which runs the jobs that retry them."""
    server = RunningServer(replace(settings, notify_webhook_url=gateway.url, run_jobs=True))
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)
    await server.stop()
