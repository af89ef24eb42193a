"""Browser origins: only configured ones may call the API or open a socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import socketio

from tests.conftest import RunningServer
from tests.helpers import Api

ALLOWED = "https://app.example.com"
EVIL = "https://evil.example.net"


@pytest.fixture(scope="module")
async def cors_server(settings) -> AsyncIterator[RunningServer]:
    server = RunningServer(replace(settings, cors_origins=(ALLOWED,)))
    await server.start()
    yield server
    await server.stop()


async def test_preflight_from_an_allowed_origin_is_answered(cors_server) -> None:
    async with httpx.AsyncClient(base_url=cors_server.url) as client:
        ok = await client.options(
            "/v1/auth/login",
            headers={
                "origin": ALLOWED,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, authorization",
            },
        )
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == ALLOWED
        assert ok.headers["access-control-allow-credentials"] == "true"
        evil = await client.options("/v1/auth/login", headers={"origin": EVIL, "access-control-request-method": "POST"})
        assert "access-control-allow-origin" not in evil.headers
        simple = await client.get("/healthz", headers={"origin": EVIL})
        assert "access-control-allow-origin" not in simple.headers


async def _socket_with_origin(url: str, token: str, origin: str) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(
        url, transports=["websocket"], auth={"token": token}, headers={"Origin": origin}, wait_timeout=5
    )
    return client


async def test_sockets_open_only_from_allowed_origins(cors_server, api: Api) -> None:
    user = await api.signup()
    good = await _socket_with_origin(cors_server.url, user.access_token, ALLOWED)
    assert good.connected
    await good.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _socket_with_origin(cors_server.url, user.access_token, EVIL)


async def test_without_configured_origins_a_foreign_browser_origin_is_refused(server, api: Api) -> None:
    user = await api.signup()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _socket_with_origin(server.url, user.access_token, EVIL)
