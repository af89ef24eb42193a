"""Clients the tests drive the server with: HTTP through httpx, sockets through
python-socketio's AsyncClient, as the apps do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import socketio

from app.platform.db import Database

PASSWORD = "correct-horse-9"


@dataclass
class User:
    id: str
    email: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.access_token}"}


@dataclass
class Society:
    id: str
    complex_id: str
    block_id: str
    flats: list[str] = field(default_factory=list)


class Api:
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self.url = url

    async def signup(self, name: str = "Test User", **extra: Any) -> User:
        email = f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:10]}@example.com"
        response = await self.client.post(
            "/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": name, **extra}
        )
        assert response.status_code == 201, response.text
        self.client.cookies.clear()  # apps send the bearer token; cookie tests set cookies themselves
        body = response.json()
        return User(body["user"]["id"], email, body["access_token"], body["refresh_token"])

    async def login(self, email: str, password: str = PASSWORD) -> User:
        response = await self.client.post("/v1/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        self.client.cookies.clear()
        body = response.json()
        return User(body["user"]["id"], email, body["access_token"], body["refresh_token"])

    async def post(self, path: str, body: Any, user: User | None = None, **kw: Any) -> httpx.Response:
        headers = {**(user.headers if user else {}), **kw.pop("headers", {})}
        return await self.client.post(path, json=body, headers=headers, **kw)

    async def get(self, path: str, user: User | None = None, **kw: Any) -> httpx.Response:
        return await self.client.get(path, headers=user.headers if user else {}, **kw)

    async def created(self, path: str, body: Any, user: User) -> dict[str, Any]:
        response = await self.post(path, body, user)
        assert response.status_code == 201, response.text
        return response.json()

    async def grant(self, admin: User, user: User, role: str, scope_type: str, scope_id: str | None) -> dict[str, Any]:
        response = await self.post(
            "/v1/admin/role-assignments",
            {"user_id": user.id, "role": role, "scope_type": scope_type, "scope_id": scope_id},
            admin,
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def society(self, admin: User, flats: int = 2) -> Society:
        soc = await self.created("/v1/societies", {"name": f"Society {uuid.uuid4().hex[:6]}", "city": "Pune"}, admin)
        cx = await self.created("/v1/complexes", {"society_id": soc["id"], "name": "Tower A"}, admin)
        bl = await self.created("/v1/blocks", {"complex_id": cx["id"], "name": "Block 1"}, admin)
        result = Society(soc["id"], cx["id"], bl["id"])
        for i in range(flats):
            flat = await self.created("/v1/flats", {"block_id": bl["id"], "flat_number": str(101 + i)}, admin)
            result.flats.append(flat["id"])
        return result


class Listener:
    """A connected socket that records every event it receives."""

    def __init__(self, client: socketio.AsyncClient) -> None:
        self.client = client
        self.events: list[tuple[str, Any]] = []
        self._arrived = asyncio.Condition()

        async def record(event: str, data: Any = None) -> None:
            async with self._arrived:
                self.events.append((event, data))
                self._arrived.notify_all()

        client.on("*", record)

    def of(self, event: str) -> list[Any]:
        return [data for name, data in self.events if name == event]

    async def wait_for(self, event: str, count: int = 1, timeout: float = 5.0) -> list[Any]:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.of(event)) >= count), timeout)
        return self.of(event)

    async def join(self, room_type: str, room_id: str) -> dict[str, Any]:
        return await self.client.call("join_room", {"room_type": room_type, "room_id": room_id}, timeout=5)

    async def call(self, event: str, data: Any) -> Any:
        return await self.client.call(event, data, timeout=5)

    async def closed_by_server(self, timeout: float = 5.0) -> bool:
        """True once the server has closed this socket (False if it is still open at the timeout)."""
        for _ in range(int(timeout / 0.05)):
            if not self.client.connected:
                return True
            await asyncio.sleep(0.05)
        return False

    async def close(self) -> None:
        if self.client.connected:
            await self.client.disconnect()


def refused(ack: Any) -> str | None:
    """The code of a refusing acknowledgement, which carries the error envelope HTTP uses
    (`{ok: false, error: {code, message}}`); None for anything else."""
    if not (isinstance(ack, dict) and ack.get("ok") is False and isinstance(ack.get("error"), dict)):
        return None
    error = ack["error"]
    return error.get("code") if isinstance(error.get("message"), str) and error["message"] else None


class Refused(socketio.exceptions.ConnectionError):
    """The server refused the handshake; `reason` is the connect_error message it sent."""

    def __init__(self, reason: object) -> None:
        super().__init__(f"refused: {reason}")
        self.reason = reason


async def connect(url: str, token: str | None) -> Listener:
    client = socketio.AsyncClient(reconnection=False)
    listener = Listener(client)
    refusals: list[object] = []
    client.on("connect_error", lambda data=None: refusals.append(data))
    try:
        await client.connect(
            url, transports=["websocket"], auth={"token": token} if token is not None else None, wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        await client.shutdown()
        reason = refusals[0].get("message") if refusals and isinstance(refusals[0], dict) else refusals
        raise Refused(reason) from None
    return listener


async def settle(seconds: float = 0.5) -> None:
    """Give events that should NOT arrive a fair chance to arrive."""
    await asyncio.sleep(seconds)


async def visitor_jobs_left(db: Database, visitor_id: str, timeout: float = 5.0) -> int:
    """The visitor's jobs still queued, once there are none or `timeout` s pass: a job's row goes in a
    statement of its own after its handler's work (a log row, a message) is already there to see."""
    for _ in range(int(timeout / 0.05)):
        async with db.connection() as conn:
            left: int = await conn.fetchval("SELECT count(*) FROM jobs WHERE payload->>'visitor_id' = $1", visitor_id)
        if not left:
            return 0
        await asyncio.sleep(0.05)
    return left


def children_of(pid: int) -> set[int]:
    """The live child processes of `pid`."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()  # noqa: SIM115
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


async def wait_ready(url: str, process: subprocess.Popen, timeout: float = 15.0) -> None:
    """Until `url` answers /readyz with 200 (failing if the process exits or `timeout` s pass)."""
    async with httpx.AsyncClient() as client:
        for _ in range(int(timeout / 0.05)):
            assert process.poll() is None, f"serve exited with {process.returncode}"
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url + "/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise AssertionError("serve did not become ready")
