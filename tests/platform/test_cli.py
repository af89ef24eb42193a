"""The `gatehouse` command as an operator runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable

import httpx
import pytest

from app.platform import workers as workers_module
from tests.conftest import free_port
from tests.helpers import Api, children_of, connect, wait_ready


def _gatehouse(settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **settings.as_env(), "LOG_LEVEL": "warning", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_seed_demo_gives_a_working_society_and_can_run_twice(settings, api: Api, server) -> None:
    first = _gatehouse(settings, "seed-demo")
    assert first.returncode == 0, first.stderr
    assert "guard@demo.example.com" in first.stdout and "resident1@demo.example.com" in first.stdout
    again = _gatehouse(settings, "seed-demo")
    assert again.returncode == 0, again.stderr
    await _the_demo_mall_works(api, first.stdout, again.stdout)
    guard = await api.login("guard@demo.example.com", "demo-password-1")
    resident = await api.login("resident1@demo.example.com", "demo-password-1")
    me = (await api.get("/v1/profile/me", guard)).json()
    (society,) = me["societies"]
    assert society["role"] == "guard"
    flats = (await api.get("/v1/profile/me", resident)).json()["flats"]
    assert len(flats) == 1
    socket = await connect(server.url, guard.access_token)
    try:
        assert (await socket.join("society", society["id"]))["ok"] is True
    finally:
        await socket.close()
    await _the_gate_device_works(api, first.stdout, again.stdout)


def _gate_device(stdout: str) -> dict[str, str]:
    """The gate device line of seed-demo's output: its id and secret, and the guard with their PIN."""
    (line,) = [line for line in stdout.splitlines() if line.strip().startswith("gate device")]
    found = re.search(r"device (\S+), secret (\S+) .* \(user (\S+)\) signs in with PIN (\d{6})", line)
    assert found is not None, line
    device, secret, user_id, pin = found.groups()
    return {"device": device, "secret": secret, "user_id": user_id, "pin": pin}


async def _the_gate_device_works(api: Api, first: str, again: str) -> None:
    """The guard signs in with the PIN on the tablet the latest run registered; the earlier one is revoked."""
    latest, earlier = _gate_device(again), _gate_device(first)
    signed = await api.client.post(
        f"/v1/gate-devices/{latest['device']}/sign-in",
        json={"secret": latest["secret"], "user_id": latest["user_id"], "pin": latest["pin"]},
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["user"]["email"] == "guard@demo.example.com"
    stale = await api.client.post(
        f"/v1/gate-devices/{earlier['device']}/sign-in",
        json={"secret": earlier["secret"], "user_id": earlier["user_id"], "pin": earlier["pin"]},
    )
    assert stale.status_code == 401


def _camera_key(stdout: str) -> str:
    (line,) = [line for line in stdout.splitlines() if line.split()[:1] == ["camera"]]
    return line.split()[1]


async def _the_demo_mall_works(api: Api, first: str, again: str) -> None:
    """The mall's people sign in, its programme and offer are there, and the camera key of the latest run
    reports detections (an earlier run's key no longer does)."""
    admin = await api.login("mall-admin@demo.example.com", "demo-password-1")
    (mall,) = (await api.get("/v1/profile/me", admin)).json()["malls"]
    overview = (await api.get(f"/v1/malls/{mall['id']}/overview", admin)).json()
    assert overview["showings_today"] and overview["active_offers"]
    detection = {"issue_type": "smoke", "details": "Seen by the demo camera", "location": "P2"}
    latest = await api.client.post("/v1/model-issues", json=detection, headers={"x-api-key": _camera_key(again)})
    assert latest.status_code in (200, 201), latest.text
    stale = await api.client.post("/v1/model-issues", json=detection, headers={"x-api-key": _camera_key(first)})
    assert stale.status_code == 401
    cars = (await api.get("/v1/cars", admin, params={"mall_id": mall["id"], "plate": "KA01MG"})).json()["items"]
    assert [(c["plate"], c["colour"]) for c in cars] == [("KA01MG2024", "silver")]
    manager = await api.login("shop-manager@demo.example.com", "demo-password-1")
    menus = {
        shop["id"]: (await api.get("/v1/products", manager, params={"shop_id": shop["id"], "q": "cappuccino"})).json()
        for shop in (await api.get("/v1/profile/me", manager)).json()["shops"]
    }
    ((cafe, menu),) = [(shop_id, found["items"]) for shop_id, found in menus.items() if found["items"]]
    assert [g["name"] for g in menu[0]["modifier_groups"]] == ["Size", "Milk", "Extras"]
    featured = (await api.get("/v1/products", manager, params={"shop_id": cafe, "featured": True})).json()
    assert [p["name"] for p in featured["items"]] == ["Cappuccino"]
    (regular,) = (await api.get(f"/v1/shops/{cafe}/customers", manager, params={"q": "Meera"})).json()["items"]
    assert regular["user_id"] is None and regular["points"] > 0, "kept without an account, with a chai's points"
    history = await api.get("/v1/orders", manager, params={"shop_id": cafe, "shop_customer_id": regular["id"]})
    assert [o["status"] for o in history.json()["items"]] == ["paid"], "seeded once, however many runs"
    pantry = (await api.get(f"/v1/shops/{cafe}/inventory", manager)).json()["items"]
    assert {i["name"] for i in pantry} == {"Milk", "Oat milk", "Coffee beans", "Tea leaves"}
    customer = await api.login("customer@demo.example.com", "demo-password-1")
    (delivery,) = (await api.get("/v1/orders", customer)).json()["items"]
    assert (delivery["fulfilment"], delivery["status"], delivery["tracking_number"]) == (
        "delivery",
        "shipped",
        "BD-DEMO-0001",
    )
    assert f"/v1/orders/{delivery['id']}/receipt" in again
    receipt = await api.get(f"/v1/orders/{delivery['id']}/receipt", customer)
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")


async def test_create_admin_makes_an_admin_who_can_sign_in(settings, api: Api) -> None:
    result = _gatehouse(
        settings, "create-admin", "--email", "ops-cli@example.com", GATEHOUSE_ADMIN_PASSWORD="ops-password-1"
    )
    assert result.returncode == 0, result.stderr
    admin = await api.login("ops-cli@example.com", "ops-password-1")
    roles = (await api.get("/v1/profile/me", admin)).json()["roles"]
    assert {"role": "admin", "scope_type": "global", "scope_id": None} in roles


async def test_create_admin_refuses_an_existing_account_unless_told_to_reset_it(settings, api: Api, db) -> None:
    user = await api.signup("Existing")
    refused = _gatehouse(settings, "create-admin", "--email", user.email, GATEHOUSE_ADMIN_PASSWORD="other-password-2")
    assert refused.returncode == 1 and "--reset-password" in refused.stderr and "Traceback" not in refused.stderr
    assert (await api.get("/v1/profile/me", user)).status_code == 200, "nothing changed"
    await api.login(user.email)  # the old password still works

    reset = _gatehouse(
        settings, "create-admin", "--email", user.email, "--reset-password", GATEHOUSE_ADMIN_PASSWORD="other-password-2"
    )
    assert reset.returncode == 0, reset.stderr
    assert (await api.get("/v1/profile/me", user)).status_code == 401, "the old sessions ended"
    admin = await api.login(user.email, "other-password-2")
    roles = (await api.get("/v1/profile/me", admin)).json()["roles"]
    assert {"role": "admin", "scope_type": "global", "scope_id": None} in roles
    async with db.connection() as conn:
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_logs WHERE action = 'user.password_reset_by_operator' AND resource_id = $1",
            user.id,
        )
    assert audited == 1


@pytest.mark.parametrize(
    ("args", "env", "stdin", "says"),
    [
        (["--email", "not-an-address"], {"GATEHOUSE_ADMIN_PASSWORD": "ops-password-1"}, "", "not a valid e-mail"),
        (["--email", "ops-eof@example.com"], {}, "", "no password given"),
        (["--email", "ops-weak@example.com", "--password", "password"], {}, "", "password"),
    ],
)
def test_create_admin_bad_input_is_one_line_and_status_2(settings, args, env, stdin, says) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "create-admin", *args],
        env={**os.environ, **settings.as_env(), "LOG_LEVEL": "warning", **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_bad_setting_stops_the_start_with_its_name(settings) -> None:
    result = _gatehouse(settings, "migrate", PORT="eighty")
    assert result.returncode == 2
    assert "PORT" in result.stderr
    insecure = _gatehouse(settings, "migrate", FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099", ALLOW_INSECURE_DEV="false")
    assert insecure.returncode == 2
    assert "FIREBASE_AUTH_EMULATOR_HOST" in insecure.stderr


def _tcp_sockets(port: int) -> dict[int, str]:
    """Socket inode -> state ('0A' listening, '01' established) for local `port`, from /proc/net/tcp."""
    sockets = {}
    for line in open("/proc/net/tcp").read().splitlines()[1:]:  # noqa: SIM115
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            sockets[int(fields[9])] = fields[3]
    return sockets


def _held_by(pid: int, sockets: dict[int, str], state: str) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:[") and sockets.get(int(target[8:-1])) == state:
                count += 1
    return count


async def test_serve_with_workers_spreads_connections_replaces_a_dead_worker_and_stops_cleanly(
    settings, api: Api
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env={**os.environ, **settings.as_env(), "LOG_LEVEL": "warning"},
    )
    url = f"http://127.0.0.1:{port}"
    user = await api.signup()
    listeners = []
    try:
        await wait_ready(url, process)
        workers = await _listening_workers(process.pid, port, lambda found: len(found) == 2)
        assert len(workers) == 2, "each worker listens on its own socket"

        listeners = [await connect(url, user.access_token) for _ in range(24)]
        sockets = _tcp_sockets(port)
        held = {pid: _held_by(pid, sockets, "01") for pid in workers}
        assert sum(held.values()) == 24 and min(held.values()) > 0, held

        await asyncio.sleep(workers_module.STARTUP_GRACE)
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        workers = await _listening_workers(process.pid, port, lambda found: len(found) == 2 and victim not in found)
        assert len(workers) == 2 and victim not in workers, "the dead worker is replaced"
        async with httpx.AsyncClient() as client:
            for _ in range(10):
                assert (await client.get(url + "/healthz")).status_code == 200
    finally:
        for listener in listeners:
            await listener.close()
        process.terminate()
        assert process.wait(timeout=30) == 0
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")], "the workers stop with the server"


async def _listening_workers(pid: int, port: int, done: Callable[[set[int]], bool]) -> set[int]:
    """The server's child processes with a listening socket on `port`, once `done` says so (or after 10 s)."""
    for _ in range(100):
        sockets = _tcp_sockets(port)
        found = {child for child in children_of(pid) if _held_by(child, sockets, "0A")}
        if done(found):
            break
        await asyncio.sleep(0.1)
    return found
