"""The `gatehouse` command as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import Api, connect


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


async def test_create_admin_makes_an_admin_who_can_sign_in(settings, api: Api) -> None:
    result = _gatehouse(
        settings, "create-admin", "--email", "ops-cli@example.com", GATEHOUSE_ADMIN_PASSWORD="ops-password-1"
    )
    assert result.returncode == 0, result.stderr
    admin = await api.login("ops-cli@example.com", "ops-password-1")
    roles = (await api.get("/v1/profile/me", admin)).json()["roles"]
    assert {"role": "admin", "scope_type": "global", "scope_id": None} in roles


def test_a_bad_setting_stops_the_start_with_its_name(settings) -> None:
    result = _gatehouse(settings, "migrate", PORT="eighty")
    assert result.returncode == 2
    assert "PORT" in result.stderr
    insecure = _gatehouse(settings, "migrate", FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099", ALLOW_INSECURE_DEV="false")
    assert insecure.returncode == 2
    assert "FIREBASE_AUTH_EMULATOR_HOST" in insecure.stderr
