"""A fault run: the visitor flow runs without a break on `gatehouse serve --workers 2` while parts fail one
after another, and every approval is accounted for (#13).

Guards register visitors over HTTP (retrying with the same Idempotency-Key, as the gate app does) and
wait in the society room for the answer; residents hear the request in their flat's room and approve it
(one request in ten is left unanswered, so escalations run through the faults too). Every client talks
through a TCP proxy of this script's, so a phone losing its network can be played exactly: its
connections vanish without a goodbye and new ones fail until the network is back, when the client
reconnects, rejoins its room and asks `sync` for what it missed.

The faults, in turn, each after the flow has settled: Redis (a server of this script's own, never the
machine's) killed and restarted after 5 s; a worker killed with SIGKILL; every PostgreSQL connection of
the server cut (`pg_terminate_backend`); the phones offline for a while; and one extra client in the busy
society room that reads nothing for a while (its server-side buffer is bounded by
SOCKET_SEND_BUFFER_BYTES; past it the server cuts it off).

For each fault it reports approvals issued, delivered live, recovered through `sync`, lost (must be 0),
duplicates seen, HTTP 5xx, request times during the fault, and how long until the flow was back to
normal; the totals check that every escalation fired once. Results go to chaos-results/<time>.json and
.md. Needs `redis-server` and a PostgreSQL (DATABASE_URL, default the local one).

Usage: scripts/chaos [--quick] [--flats 8] [--offline-seconds 120] [--stall-seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import socketio
from script_support import free_port, logger, with_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "chaos-results"
WORK = ROOT / ".chaos"
PASSWORD = "chaos-password-1"
ESCALATE_AFTER = 5  # seconds a request may wait before the society hears it was not answered
UNANSWERED = 10  # one request in this many is left for escalation


log = logger("chaos")


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# The parts that fail -----------------------------------------------------------------------------


class Redis:
    """A redis-server of this run's own, on its own port, that can be killed and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("scripts/chaos needs redis-server (Debian's redis-server package)")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


class Proxy:
    """A TCP relay between clients and the server. `offline()` is a phone losing its network: the
    clients' connections drop, the server's side is left hanging (no goodbye reaches it), and new
    connections fail until `online()`. `stall()` stops passing the server's bytes on, as a client that
    reads nothing; `flow()` resumes."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.is_offline = False
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._hanging: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for client, upstream in list(self._pairs):
            client.transport.abort()
            upstream.transport.abort()
        for upstream in self._hanging:
            upstream.transport.abort()

    def offline(self) -> None:
        self.is_offline = True
        for client, upstream in list(self._pairs):
            self._pairs.discard((client, upstream))
            client.transport.abort()
            self._hanging.append(upstream)  # the server finds out only by its own ping timeout

    def online(self) -> None:
        self.is_offline = False
        for upstream in self._hanging:
            upstream.transport.abort()
        self._hanging.clear()

    def stall(self) -> None:
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_offline:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        await asyncio.gather(
            self._pipe(reader, up_writer, pair, downstream=False),
            self._pipe(up_reader, writer, pair, downstream=True),
            return_exceptions=True,
        )
        self._pairs.discard(pair)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        *,
        downstream: bool,
    ) -> None:
        try:
            while True:
                if downstream:
                    await self._flowing.wait()
                data = await source.read(65536)
                if not data or pair not in self._pairs:
                    break
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if pair in self._pairs:
                sink.transport.abort()


# What happened, as the clients saw it ------------------------------------------------------------


@dataclass
class Ledger:
    """Every request, approval and event the clients saw, stamped with the phase it happened in."""

    phase: str = "warm-up"
    requests: list[tuple[str, str, int, float]] = field(default_factory=list)  # phase, what, status, seconds
    approvals: dict[str, str] = field(default_factory=dict)  # visitor id -> phase the approval committed in
    answered: dict[str, str] = field(default_factory=dict)  # visitor id -> "live" or "sync", as its guard heard
    cycles: list[tuple[str, float, float]] = field(default_factory=list)  # phase, started (monotonic), seconds
    duplicates: dict[str, int] = field(default_factory=dict)
    escalations: dict[str, set[int]] = field(default_factory=dict)  # visitor id -> escalation event ids
    unanswered: dict[str, str] = field(default_factory=dict)  # visitor id -> phase it was registered in

    def request(self, what: str, status: int, seconds: float) -> None:
        self.requests.append((self.phase, what, status, seconds))

    def duplicate(self) -> None:
        self.duplicates[self.phase] = self.duplicates.get(self.phase, 0) + 1


async def call(
    ledger: Ledger, client: httpx.AsyncClient, what: str, method: str, path: str, **kw: Any
) -> httpx.Response | None:
    """One request, timed and counted; None when it got no answer at all (status 0 in the ledger)."""
    started = time.monotonic()
    try:
        response = await client.request(method, path, **kw)
    except httpx.HTTPError:
        ledger.request(what, 0, time.monotonic() - started)
        return None
    ledger.request(what, response.status_code, time.monotonic() - started)
    return response


class Phone:
    """A socket that stays in one room across drops: on every (re)connect it joins the room again and
    asks `sync` for what came after the last event it saw, page by page."""

    def __init__(self, url: str, token: str, room_type: str, room_id: str, ledger: Ledger) -> None:
        self.url, self.token, self.room_type, self.room_id = url, token, room_type, room_id
        self.room = f"{room_type}:{room_id}"
        self.ledger = ledger
        self.last = 0
        self.seen: set[int] = set()
        self.handlers: dict[str, Any] = {}
        self.reconnects = 0
        self.moved = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2)
        self.sio.on("connect", self._connected)
        self.sio.on("*", self._event)

    async def open(self) -> None:
        """Connect, retrying a first attempt that fails as a phone would (the slow-client phase's single connect
        through its fresh proxy was once refused, and the run stopped there)."""
        await self.sio.connect(
            self.url, auth={"token": self.token}, transports=["websocket"], wait_timeout=10, retry=True
        )

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()

    async def _connected(self) -> None:
        self.reconnects += 1
        asyncio.get_running_loop().create_task(self._catch_up())

    async def _catch_up(self) -> None:
        with contextlib.suppress(Exception):
            joined = await self.sio.call(
                "join_room", {"room_type": self.room_type, "room_id": self.room_id}, timeout=10
            )
            if not joined.get("ok"):
                return
            while self.last:
                page = await self.sio.call("sync", {"room": self.room, "since": self.last}, timeout=10)
                if not page.get("ok"):
                    return
                for payload in page["events"]:
                    self._take(payload, "sync")
                if not page["more"]:
                    return

    async def _event(self, event: str, payload: Any = None) -> None:
        if isinstance(payload, dict) and payload.get("room") == self.room:
            self._take(payload, "live")

    async def reaches(self, event_id: int, *, within: float) -> bool:
        """Whether this phone sees `event_id` (or a later event of its room) within `within` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while self.last < event_id:
                    self.moved.clear()
                    await self.moved.wait()
        return self.last >= event_id

    async def final_sync(self) -> None:
        await self._catch_up()

    def _take(self, payload: dict[str, Any], how: str) -> None:
        event_id = payload["event_id"]
        if event_id in self.seen:
            self.ledger.duplicate()
            return
        self.seen.add(event_id)
        self.last = max(self.last, event_id)
        self.moved.set()
        handler = self.handlers.get(payload["type"])
        if handler is not None:
            handler(payload, how)


@dataclass
class Flat:
    flat_id: str
    guard_token: str
    resident_token: str


class Gate:
    """One guard and the residents of one flat, running the visitor flow without a break."""

    def __init__(self, url: str, society_id: str, flat: Flat, ledger: Ledger) -> None:
        self.url, self.society_id, self.flat, self.ledger = url, society_id, flat, ledger
        self.guard = Phone(url, flat.guard_token, "society", society_id, ledger)
        self.resident = Phone(url, flat.resident_token, "flat", flat.flat_id, ledger)
        self.waiting: dict[str, asyncio.Future[None]] = {}
        self.answering: set[str] = set()
        self.guard.handlers = {"request_approved": self._answered, "request_escalated": self._escalated}
        self.resident.handlers = {"visitor_request": self._requested}
        self.http = httpx.AsyncClient(base_url=url, timeout=10)
        self.count = 0

    async def open(self) -> None:
        await self.guard.open()
        await self.resident.open()

    async def close(self) -> None:
        await self.guard.close()
        await self.resident.close()
        await self.http.aclose()

    def _answered(self, payload: dict[str, Any], how: str) -> None:
        visitor_id = payload["data"]["id"]
        if payload["data"]["flat_id"] != self.flat.flat_id:
            return
        self.ledger.answered.setdefault(visitor_id, how)
        waiter = self.waiting.get(visitor_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _escalated(self, payload: dict[str, Any], how: str) -> None:
        if payload["data"]["flat_id"] == self.flat.flat_id:
            self.ledger.escalations.setdefault(payload["data"]["id"], set()).add(payload["event_id"])

    def _requested(self, payload: dict[str, Any], how: str) -> None:
        visitor = payload["data"]
        if visitor["id"] in self.answering or visitor["name"].endswith("(unanswered)"):
            return
        self.answering.add(visitor["id"])
        asyncio.get_running_loop().create_task(self._approve(visitor["id"]))

    async def _approve(self, visitor_id: str) -> None:
        """The resident taps approve; the app retries until the server has taken it (or says it was)."""
        headers = {"authorization": f"Bearer {self.flat.resident_token}"}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            answer = await call(
                self.ledger,
                self.http,
                "respond",
                "POST",
                f"/v1/visitors/{visitor_id}/respond",
                json={"decision": "approve"},
                headers=headers,
            )
            if answer is not None and answer.status_code == 200:
                self.ledger.approvals.setdefault(visitor_id, self.ledger.phase)
                return
            if answer is not None and answer.status_code == 409:
                return  # already answered: an earlier try went through and its answer was lost
            await asyncio.sleep(0.3)

    async def run(self, stop: asyncio.Event) -> None:
        headers = {"authorization": f"Bearer {self.flat.guard_token}"}
        while not stop.is_set():
            self.count += 1
            left = self.count % UNANSWERED == 0
            body = {"flat_id": self.flat.flat_id, "name": f"Visitor {self.count}{' (unanswered)' if left else ''}"}
            key = {"idempotency-key": uuid.uuid4().hex, **headers}
            started = time.monotonic()
            visitor_id = None
            while visitor_id is None and not stop.is_set() and time.monotonic() - started < 180:
                made = await call(self.ledger, self.http, "register", "POST", "/v1/visitors", json=body, headers=key)
                if made is not None and made.status_code == 201:
                    visitor_id = made.json()["id"]
                else:
                    await asyncio.sleep(0.3)
            if visitor_id is None:
                continue
            if left:
                self.ledger.unanswered[visitor_id] = self.ledger.phase
                await asyncio.sleep(0.2)
                continue
            waiter = self.waiting[visitor_id] = asyncio.get_running_loop().create_future()
            if visitor_id in self.ledger.answered:
                waiter.set_result(None)
            phase = self.ledger.phase
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, timeout=180)
                self.ledger.cycles.append((phase, started, time.monotonic() - started))
            self.waiting.pop(visitor_id, None)


# The run -----------------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    started: float
    ended: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)


def worker_pids(server: asyncio.subprocess.Process) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


async def wait_ready(url: str, within: float = 60) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} was not ready in {within}s")


async def provision(url: str, flats: int) -> tuple[str, list[Flat]]:
    """A society with `flats` flats, a guard per flat (all at its gate) and a resident in each flat."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def signup(name: str) -> tuple[str, str]:
            email = f"chaos-{uuid.uuid4().hex[:10]}@example.com"
            made = await client.post("/v1/auth/signup", json={"email": email, "password": PASSWORD, "name": name})
            made.raise_for_status()
            return made.json()["user"]["id"], made.json()["access_token"]

        login = await client.post("/v1/auth/login", json={"email": "chaos-admin@example.com", "password": PASSWORD})
        login.raise_for_status()
        admin = {"authorization": f"Bearer {login.json()['access_token']}"}

        async def create(path: str, body: dict[str, Any]) -> dict[str, Any]:
            made = await client.post(path, json=body, headers=admin)
            made.raise_for_status()
            return made.json()

        async def grant(user_id: str, role: str, scope_type: str, scope_id: str) -> None:
            body = {"user_id": user_id, "role": role, "scope_type": scope_type, "scope_id": scope_id}
            await create("/v1/admin/role-assignments", body)

        society = await create("/v1/societies", {"name": f"Chaos {secrets.token_hex(3)}", "city": "Pune"})
        complex_ = await create("/v1/complexes", {"society_id": society["id"], "name": "Tower"})
        block = await create("/v1/blocks", {"complex_id": complex_["id"], "name": "Block"})
        made: list[Flat] = []
        for n in range(flats):
            flat = await create("/v1/flats", {"block_id": block["id"], "flat_number": str(100 + n)})
            guard_id, guard_token = await signup(f"Guard {n}")
            resident_id, resident_token = await signup(f"Resident {n}")
            await grant(guard_id, "guard", "society", society["id"])
            await grant(resident_id, "resident", "flat", flat["id"])
            made.append(Flat(flat["id"], guard_token, resident_token))
        return society["id"], made


async def cut_connections(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchval(
            """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE datname = current_database() AND application_name = 'gatehouse' AND pid <> pg_backend_pid()"""
        )
    finally:
        await conn.close()


async def run_faults(
    args: argparse.Namespace, env: dict[str, str], redis: Redis, server: asyncio.subprocess.Process, url: str
) -> dict[str, Any]:
    ledger = Ledger()
    proxy = Proxy(int(urlsplit(url).port or 0))
    await proxy.start()
    society_id, flats = await provision(url, args.flats)
    gates = [Gate(proxy.url, society_id, flat, ledger) for flat in flats]
    for gate in gates:
        await gate.open()
    stop = asyncio.Event()
    loops = [asyncio.get_running_loop().create_task(gate.run(stop)) for gate in gates]
    faults: list[Fault] = []
    settle = 4 if args.quick else 10

    async def phase(name: str, seconds: float) -> None:
        ledger.phase = name
        await asyncio.sleep(seconds)

    await phase("baseline", settle)

    fault = Fault("redis_down", time.monotonic())
    ledger.phase = fault.name
    await asyncio.to_thread(redis.kill)
    await asyncio.sleep(5)
    await asyncio.to_thread(redis.start)
    fault.ended = time.monotonic()
    faults.append(fault)
    await phase(fault.name, settle)

    fault = Fault("worker_killed", time.monotonic())
    ledger.phase = fault.name
    victim = secrets.choice(worker_pids(server))
    os.kill(victim, signal.SIGKILL)
    fault.detail["pid"] = victim
    fault.ended = time.monotonic()
    faults.append(fault)
    await phase(fault.name, settle)

    fault = Fault("postgres_connections_cut", time.monotonic())
    ledger.phase = fault.name
    fault.detail["connections"] = await cut_connections(env["DATABASE_URL"])
    fault.ended = time.monotonic()
    faults.append(fault)
    await phase(fault.name, settle)

    fault = Fault("clients_offline", time.monotonic(), detail={"seconds": args.offline_seconds})
    ledger.phase = fault.name
    proxy.offline()
    await asyncio.sleep(args.offline_seconds)
    proxy.online()
    fault.ended = time.monotonic()
    faults.append(fault)
    await phase(fault.name, settle)

    fault = Fault("slow_client", time.monotonic(), detail={"seconds": args.stall_seconds})
    ledger.phase = fault.name
    slow_proxy = Proxy(proxy.target_port)
    await slow_proxy.start()
    slow = Phone(slow_proxy.url, flats[0].guard_token, "society", society_id, Ledger())
    await slow.open()
    await asyncio.sleep(1)
    connects_before = slow.reconnects
    slow_proxy.stall()
    await asyncio.sleep(args.stall_seconds)
    slow_proxy.flow()
    # Caught up: it has seen, within 10 s, every society event the guards had seen when it read again.
    target = max(gate.guard.last for gate in gates)
    fault.detail["caught_up"] = await slow.reaches(target, within=10)
    fault.detail["cut_off_by_server"] = slow.reconnects > connects_before
    fault.ended = time.monotonic()
    faults.append(fault)
    await phase(fault.name, settle)
    await slow.close()
    await slow_proxy.close()

    ledger.phase = "settling"
    stop.set()
    await asyncio.wait(loops, timeout=60)
    await asyncio.sleep(ESCALATE_AFTER + 3)
    for gate in gates:
        await gate.guard.final_sync()
    for gate in gates:
        await gate.close()
    await proxy.close()
    return report(ledger, faults)


def report(ledger: Ledger, faults: list[Fault]) -> dict[str, Any]:
    baseline = [seconds for phase, _, seconds in ledger.cycles if phase == "baseline"]
    normal = 3 * (statistics.median(baseline) if baseline else 0.1) + 0.2
    rows = []
    for fault in faults:
        approvals = [v for v, phase in ledger.approvals.items() if phase == fault.name]
        live = [v for v in approvals if ledger.answered.get(v) == "live"]
        synced = [v for v in approvals if ledger.answered.get(v) == "sync"]
        requests = [(status, seconds) for phase, _, status, seconds in ledger.requests if phase == fault.name]
        times = [seconds * 1000 for _, seconds in requests]
        # Back to normal: the first cycle started after the fault ended that took no longer than normal.
        back = [
            started + seconds
            for _phase, started, seconds in ledger.cycles
            if started >= fault.ended and seconds <= normal
        ]
        rows.append(
            {
                "fault": fault.name,
                **fault.detail,
                "fault_seconds": round(fault.ended - fault.started, 2),
                "approvals": len(approvals),
                "delivered_live": len(live),
                "recovered_by_sync": len(synced),
                "lost": len(approvals) - len(live) - len(synced),
                "duplicates_seen": ledger.duplicates.get(fault.name, 0),
                "requests": len(requests),
                "http_5xx": sum(1 for status, _ in requests if status >= 500),
                "no_answer": sum(1 for status, _ in requests if status == 0),
                "request_ms_p50": percentile(times, 0.5),
                "request_ms_p99": percentile(times, 0.99),
                "request_ms_max": max(times) if times else None,
                "seconds_to_normal": round(min(back) - fault.ended, 2) if back else None,
            }
        )
    escalated = {v: len(ids) for v, ids in ledger.escalations.items()}
    return {
        "faults": rows,
        "approvals": len(ledger.approvals),
        "lost": sum(row["lost"] for row in rows)
        + sum(
            1
            for v, phase in ledger.approvals.items()
            if phase not in {f.name for f in faults} and v not in ledger.answered
        ),
        "baseline_cycle_ms_p50": round(statistics.median(baseline) * 1000, 1) if baseline else None,
        "unanswered_requests": len(ledger.unanswered),
        "escalated_once": sum(1 for v in ledger.unanswered if escalated.get(v) == 1),
        "escalated_more_than_once": sorted(v for v, n in escalated.items() if n > 1),
        "not_escalated": {v: phase for v, phase in ledger.unanswered.items() if v not in escalated},
    }


def markdown(result: dict[str, Any], started: str, args: argparse.Namespace) -> str:
    lines = [
        f"# Fault run {started}",
        "",
        f"2 workers, {args.flats} gates, escalation after {ESCALATE_AFTER} s; baseline visitor cycle p50 "
        f"{result['baseline_cycle_ms_p50']} ms. Approvals {result['approvals']}, **lost {result['lost']}**.",
        "",
        "| fault | approvals | live | via sync | lost | duplicates | 5xx | no answer | p50 ms | p99 ms | max ms "
        "| normal again (s after) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    for row in result["faults"]:
        lines.append(
            f"| {row['fault']} | {row['approvals']} | {row['delivered_live']} | {row['recovered_by_sync']} "
            f"| {row['lost']} | {row['duplicates_seen']} | {row['http_5xx']} | {row['no_answer']} "
            f"| {ms(row['request_ms_p50'])} | {ms(row['request_ms_p99'])} | {ms(row['request_ms_max'])} "
            f"| {row['seconds_to_normal'] if row['seconds_to_normal'] is not None else '-'} |"
        )
    slow = next((row for row in result["faults"] if row["fault"] == "slow_client"), None)
    lines += [
        "",
        f"Escalations: {result['unanswered_requests']} requests left unanswered, {result['escalated_once']} "
        f"escalated exactly once, {len(result['escalated_more_than_once'])} more than once, "
        f"{len(result['not_escalated'])} never.",
    ]
    if slow is not None:
        lines.append(
            f"The slow client (reading nothing for {slow['seconds']} s) was "
            f"{'cut off by the server' if slow['cut_off_by_server'] else 'kept: its backlog stayed under the bound'}"
            f" (SOCKET_SEND_BUFFER_BYTES past the kernel's socket buffers), and "
            f"{'had caught up' if slow['caught_up'] else 'had not caught up'} within 10 s of reading again."
        )
    return "\n".join(lines) + "\n"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short phases (a minute or two in all)")
    parser.add_argument("--flats", type=int, default=8, help="gates running the flow at once")
    parser.add_argument("--offline-seconds", type=float, default=None, help="how long the phones are offline")
    parser.add_argument("--stall-seconds", type=float, default=None, help="how long the slow client reads nothing")
    args = parser.parse_args()
    args.offline_seconds = args.offline_seconds or (8 if args.quick else 120)
    args.stall_seconds = args.stall_seconds or (8 if args.quick else 30)

    admin_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    database = f"gh_chaos_{secrets.token_hex(3)}"
    WORK.mkdir(exist_ok=True)
    RESULTS.mkdir(exist_ok=True)
    redis = Redis()
    await asyncio.to_thread(redis.start)
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f'CREATE DATABASE "{database}"')
    await conn.close()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": with_database(admin_url, database),
        "REDIS_URL": redis.url,
        "JWT_SECRET": secrets.token_urlsafe(48),
        "RATE_LIMIT_GENERAL": "100000000/minute",
        "RATE_LIMIT_AUTH": "100000000/minute",
        "RATE_LIMIT_SYNCS": "100000000/minute",
        "SOCKET_CONNECTIONS_PER_ADDRESS": "1000000",
        "SOCKET_CONNECTS_PER_SECOND": "1000000",
        "SOCKET_CONNECT_BURST": "1000000",
        "ACCESS_TOKEN_TTL": "7200",
        "VISITOR_ESCALATE_AFTER": str(ESCALATE_AFTER),
        "LOG_LEVEL": "warning",
        "LOG_FORMAT": "json",
    }
    gatehouse = str(ROOT / ".venv" / "bin" / "gatehouse")
    server: asyncio.subprocess.Process | None = None
    started = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        await asyncio.to_thread(subprocess.run, [gatehouse, "migrate"], env=env, check=True, capture_output=True)
        await asyncio.to_thread(
            subprocess.run,
            [gatehouse, "create-admin", "--email", "chaos-admin@example.com", "--password", PASSWORD],
            env=env,
            check=True,
            capture_output=True,
        )
        log_path = WORK / f"server-{started}.log"
        command = [gatehouse, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        with log_path.open("w") as server_log:
            server = await asyncio.create_subprocess_exec(
                *command, env=env, stdout=server_log, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{port}"
        await wait_ready(url)
        log(f"server up on {url}, redis on {redis.port}, database {database}; faults begin")
        result = await run_faults(args, env, redis, server, url)
    finally:
        if server is not None and server.returncode is None:
            server.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(server.wait(), timeout=20)
            except TimeoutError:
                server.kill()
        redis.kill()
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.close()
    (RESULTS / f"{started}.json").write_text(json.dumps(result, indent=2))
    table = markdown(result, started, args)
    (RESULTS / f"{started}.md").write_text(table)
    print(table)
    return 0 if result["lost"] == 0 and not result["escalated_more_than_once"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
