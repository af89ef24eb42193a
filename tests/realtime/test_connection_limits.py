"""What one client address or one slow client can cost a worker: connections per address are capped,
new ones are rate-limited, and a socket whose client stops reading is cut off when its send buffer
fills (#14, items 1 and 3)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import orjson
import pytest

from tests.conftest import RunningServer
from tests.helpers import Api, Refused, connect

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


async def _server(settings, **changes) -> RunningServer:
    server = RunningServer(replace(settings, **changes))
    await server.start()
    return server


@pytest.fixture
async def capped(settings) -> AsyncIterator[RunningServer]:
    server = await _server(settings, socket_connections_per_address=3, socket_connect_timeout=0.5)
    yield server
    await server.stop()


@pytest.fixture
async def paced(settings) -> AsyncIterator[RunningServer]:
    server = await _server(settings, socket_connects_per_second=2.0, socket_connect_burst=3)
    yield server
    await server.stop()


async def _handshakes(url: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url) as client:
        return [await client.get(HANDSHAKE) for _ in range(count)]


async def test_one_address_holds_only_so_many_connections(api: Api, capped: RunningServer) -> None:
    held = await _handshakes(capped.url, 4)
    assert [r.status_code for r in held] == [200, 200, 200, 401]
    assert "too_many_connections" in held[-1].text
    user = await api.signup()
    with pytest.raises(Refused):
        await connect(capped.url, user.access_token)
    await asyncio.sleep(1.5)  # the three never signed in: closed after SOCKET_CONNECT_TIMEOUT, which frees them
    listener = await connect(capped.url, user.access_token)
    try:
        assert (await listener.call("sync", {"room": f"user:{user.id}", "since": 0}))["ok"] is True
    finally:
        await listener.close()


async def test_a_socket_the_server_closes_loses_its_connection_though_its_client_stays(
    capped: RunningServer,
) -> None:
    """A client that never signs in is closed after SOCKET_CONNECT_TIMEOUT. One that ignores the Engine.IO
    CLOSE packet and stays connected still gets the websocket's close frame at once, so the server does not
    hold its connection (it drops it `close_timeout` later if the client never answers the frame)."""
    reader, writer = await _deaf_socket(capped.port, None)
    try:
        frames = []
        async with asyncio.timeout(3):
            while not frames or frames[-1][0] != 0x8:
                frames.append(await _next_frame(reader))
        opcode, payload = frames[0]
        assert opcode == 0x1 and payload.startswith(b"0{")  # Engine.IO's OPEN
        assert (0x1, b"1") in frames  # Engine.IO's CLOSE, then the websocket's close frame
    finally:
        writer.close()


async def test_new_connections_from_one_address_are_paced(paced: RunningServer) -> None:
    burst = await _handshakes(paced.url, 4)
    assert [r.status_code for r in burst] == [200, 200, 200, 401]
    await asyncio.sleep(0.6)  # at 2 a second, one more is allowed
    assert [r.status_code for r in await _handshakes(paced.url, 1)] == [200]


def _frame(text: str) -> bytes:
    """One masked text frame, as a websocket client sends it."""
    data = text.encode()
    mask = os.urandom(4)
    size = len(data)
    if size < 126:
        head = bytes([0x81, 0x80 | size])
    elif size < 65536:
        head = bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + size.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def _deaf_socket(port: int, token: str | None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket that signs in (unless `token` is None) and then reads nothing more, behind a tiny receive
    buffer."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.setblocking(False)
    await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=raw)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
    if token is not None:
        writer.write(_frame("40" + orjson.dumps({"token": token}).decode()))
        await writer.drain()
    return reader, writer


async def _next_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The opcode and payload of the server's next websocket frame (a server's frames are not masked)."""
    head = await reader.readexactly(2)
    size = head[1] & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return head[0] & 0x0F, await reader.readexactly(size)


async def _until_closed(reader: asyncio.StreamReader) -> None:
    try:
        while await reader.read(65536):
            pass
    except ConnectionError:
        pass


async def test_a_client_that_stops_reading_is_cut_off_and_others_are_served(
    api: Api, settings, outbox, outbox_db
) -> None:
    server = await _server(settings, socket_send_buffer_bytes=64 * 1024)
    try:
        user = await api.signup()
        room = f"user:{user.id}"
        async with outbox_db.transaction() as tx:
            for n in range(20):
                outbox.publish(tx, room, "bulky", {"n": n, "filler": "x" * (20 * 1024)})
        reader, writer = await _deaf_socket(server.port, user.access_token)
        try:
            for ack in range(1, 121):  # about 30 MB of answers asked for, none of them read
                writer.write(_frame(f"42{ack}" + orjson.dumps(["sync", {"room": room, "since": 0}]).decode()))
                try:
                    await writer.drain()
                except ConnectionError:
                    break
                await asyncio.sleep(0.03)
            # Cut off, the stream ends; had it not been, reading would take every answer and then wait.
            await asyncio.wait_for(_until_closed(reader), timeout=10)
        finally:
            writer.close()
        listener = await connect(server.url, user.access_token)
        try:
            answer = await listener.call("sync", {"room": room, "since": 0})
            assert answer["ok"] is True and answer["events"]
        finally:
            await listener.close()
    finally:
        await server.stop()
