"""A socket cannot make a worker do unbounded work: a connection that never signs in is closed,
events are rate-limited per socket, a socket that ignores the limit is closed, one `sync` is
answered at a time, and a `sync` page is bounded in bytes as well as in events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import websockets

from app.platform.realtime.outbox import SYNC_MAX_BYTES
from tests.conftest import RunningServer
from tests.helpers import Api, connect, refused, settle

RATE, BURST = 5.0, 10


@pytest.fixture(scope="module")
async def limited(settings) -> AsyncIterator[RunningServer]:
    server = RunningServer(
        replace(settings, socket_events_per_second=RATE, socket_event_burst=BURST, socket_connect_timeout=0.5)
    )
    await server.start()
    yield server
    await server.stop()


async def test_a_burst_past_the_limit_is_refused_and_the_bucket_refills(api: Api, limited: RunningServer) -> None:
    user = await api.signup()
    listener = await connect(limited.url, user.access_token)
    room = {"room": f"user:{user.id}", "since": 0}
    try:
        acks = [await listener.call("sync", room) for _ in range(BURST + 1)]
        assert [a["ok"] for a in acks] == [True] * BURST + [False]
        assert refused(acks[-1]) == "rate_limited"
        await asyncio.sleep(2 / RATE + 0.1)
        assert (await listener.call("sync", room))["ok"] is True
        assert listener.client.connected
    finally:
        await listener.close()


async def test_a_socket_that_floods_sync_is_closed_and_the_worker_serves_others(
    api: Api, limited: RunningServer
) -> None:
    user = await api.signup()
    flooder = await connect(limited.url, user.access_token)
    try:
        for _ in range(3000):  # fire and forget, never waiting for an answer
            await flooder.client.emit("sync", {"room": f"user:{user.id}", "since": 0})
        assert await flooder.closed_by_server()
    finally:
        await flooder.close()
    other = await api.signup()
    listener = await connect(limited.url, other.access_token)
    try:
        assert (await listener.call("sync", {"room": f"user:{other.id}", "since": 0}))["ok"] is True
    finally:
        await listener.close()


async def test_a_sync_page_is_bounded_in_bytes_and_paging_loses_nothing(api: Api, server, outbox, outbox_db) -> None:
    user = await api.signup()
    room = f"user:{user.id}"
    filler = "x" * (20 * 1024)
    async with outbox_db.transaction() as tx:
        for n in range(40):  # about 800 KiB in all
            outbox.publish(tx, room, "bulky", {"n": n, "filler": filler})
    listener = await connect(server.url, user.access_token)
    try:
        seen: list[int] = []
        since, pages = 0, 0
        while True:
            ack = await listener.call("sync", {"room": room, "since": since})
            assert ack["ok"] is True
            bulky = [e for e in ack["events"] if e["type"] == "bulky"]
            assert sum(len(filler) for _ in bulky) <= SYNC_MAX_BYTES
            seen += [e["data"]["n"] for e in bulky]
            pages += 1
            if not ack["more"]:
                break
            since = ack["events"][-1]["event_id"]
        assert seen == list(range(40)) and pages >= 4
        # Several at once on one socket: one is answered, the ones that arrive meanwhile are refused.
        acks = await asyncio.gather(*(listener.call("sync", {"room": room, "since": 0}) for _ in range(5)))
        assert {refused(a) for a in acks if not a["ok"]} <= {"rate_limited"}
        assert any(a["ok"] for a in acks) and any(not a["ok"] for a in acks)
        await settle(0.1)
        assert (await listener.call("sync", {"room": room, "since": 0}))["ok"] is True
    finally:
        await listener.close()


async def test_a_connection_that_never_signs_in_is_closed(api: Api, limited: RunningServer) -> None:
    anonymous = await websockets.connect(limited.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket")
    try:
        assert str(await anonymous.recv()).startswith("0{")  # Engine.IO open; no Socket.IO CONNECT follows
        async with asyncio.timeout(5):
            while (message := str(await anonymous.recv())) != "1":  # Engine.IO close
                if message == "2":
                    await anonymous.send("3")
    except websockets.ConnectionClosed:
        pass
    finally:
        await anonymous.close()
    user = await api.signup()
    signed_in = await connect(limited.url, user.access_token)
    try:
        await settle(1.0)  # twice the timeout
        assert signed_in.client.connected
    finally:
        await signed_in.close()
