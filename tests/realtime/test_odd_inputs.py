"""Odd socket inputs get a clear refusal, never a traceback: a malformed Socket.IO or Engine.IO
packet closes that connection, and `sync` past the bigint range is `bad_request`."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
import pytest
import websockets

from tests.helpers import Api, connect, refused

NESTED = "[" * 3000 + "]" * 3000


async def _raw_socket(server_url: str, token: str) -> websockets.ClientConnection:
    """An Engine.IO v4 websocket that has completed the Socket.IO connect, as a hand-written client."""
    ws = await websockets.connect(server_url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket")
    opened = await ws.recv()
    assert str(opened).startswith("0{")
    await ws.send("40" + orjson.dumps({"token": token}).decode())
    connected = await ws.recv()
    assert str(connected).startswith("40{"), connected
    return ws


async def _closed_by_server(ws: websockets.ClientConnection) -> bool:
    """True once the server sends Engine.IO's CLOSE packet or closes the websocket."""
    try:
        async with asyncio.timeout(5):
            while True:
                message = await ws.recv()
                if message == "1":
                    return True
                if message == "2":  # a ping: answer it, as a live client would
                    await ws.send("3")
    except websockets.ConnectionClosed:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize(
    "packet",
    [
        "42[]",
        '42[{"event": "sync"}]',
        "42[7]",
        '42["sync", {"room": ',
        f'42["sync", {NESTED}]',
        "42{}",
        "4x",
        "9",
    ],
    ids=["empty-event", "object-name", "number-name", "truncated", "deeply-nested", "not-a-list", "bad-type", "eio-9"],
)
async def test_a_malformed_packet_closes_that_connection_and_logs_no_error(
    api: Api, server, packet: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = await api.signup()
    ws = await _raw_socket(server.url, user.access_token)
    with caplog.at_level(logging.WARNING):
        try:
            await ws.send(packet)
            assert await _closed_by_server(ws)
        finally:
            with contextlib.suppress(Exception):
                await ws.close()
        await asyncio.sleep(0.1)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    # The server is fine for everyone else.
    listener = await connect(server.url, user.access_token)
    try:
        assert (await listener.call("sync", {"room": f"user:{user.id}", "since": 0}))["ok"] is True
    finally:
        await listener.close()


async def test_sync_beyond_the_bigint_range_is_bad_request(api: Api, server) -> None:
    user = await api.signup()
    ws = await _raw_socket(server.url, user.access_token)
    try:
        for ack_id, since in enumerate((2**63, 2**64 + 5, 10**30, -1), start=1):
            await ws.send(f'42{ack_id}["sync",{{"room":"user:{user.id}","since":{since}}}]')
            while (reply := str(await ws.recv())) == "2":
                await ws.send("3")
            assert reply.startswith(f"43{ack_id}["), reply
            assert refused(orjson.loads(reply[len(f"43{ack_id}") :])[0]) == "bad_request", reply
        await ws.send(f'429["sync",{{"room":"user:{user.id}","since":{2**63 - 1}}}]')
        while (reply := str(await ws.recv())) == "2":
            await ws.send("3")
        assert reply.startswith('439[{"ok":true'), reply
    finally:
        await ws.close()
