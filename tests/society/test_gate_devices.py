"""Guards sign in on a gate device with a PIN: the society admin registers the device and sets the PINs;
the device's secret and the PIN must both be right; failures are limited per device and per guard; another
society's device, a revoked one, or someone who is not a guard gets nowhere."""

from __future__ import annotations

from dataclasses import replace

import httpx

from app.platform.config import Settings
from tests.conftest import RunningServer
from tests.helpers import Api, User, connect
from tests.society.conftest import Gate


async def _device(api: Api, admin_user: User, society_id: str, name: str = "Main gate tablet") -> dict:
    return await api.created(f"/v1/societies/{society_id}/gate-devices", {"name": name, "gate": "North"}, admin_user)


async def _set_pin(api: Api, admin_user: User, society_id: str, guard: User, pin: str):
    return await api.client.put(
        f"/v1/societies/{society_id}/guards/{guard.id}/pin", json={"pin": pin}, headers=admin_user.headers
    )


async def _sign_in(api: Api, device: dict, guard: User, pin: str, secret: str | None = None):
    body = {"secret": secret or device["secret"], "user_id": guard.id, "pin": pin}
    return await api.client.post(f"/v1/gate-devices/{device['device']['id']}/sign-in", json=body)


async def test_a_guard_signs_in_on_the_gate_device_with_a_pin(api: Api, admin: User, server, gate: Gate) -> None:
    chair = await api.signup("Society Chair")
    await api.grant(admin, chair, "society_admin", "society", gate.society.id)
    device = await _device(api, chair, gate.society.id)
    assert device["secret"].startswith("ghd_") and device["device"]["gate"] == "North"
    listed = (await api.get(f"/v1/societies/{gate.society.id}/gate-devices", chair)).json()["items"]
    assert [d["id"] for d in listed] == [device["device"]["id"]] and "secret" not in listed[0]
    assert (await _set_pin(api, chair, gate.society.id, gate.guard, "482913")).status_code == 204

    roster = await api.client.post(
        f"/v1/gate-devices/{device['device']['id']}/roster", json={"secret": device["secret"]}
    )
    assert roster.status_code == 200, roster.text
    assert [(g["user_id"], g["has_pin"]) for g in roster.json()["items"]] == [(gate.guard.id, True)]

    signed = await _sign_in(api, device, gate.guard, "482913")
    assert signed.status_code == 200, signed.text
    token = signed.json()["access_token"]
    me = await api.client.get("/v1/profile/me", headers={"authorization": f"Bearer {token}"})
    assert me.json()["user"]["id"] == gate.guard.id
    booth = await connect(server.url, token)
    try:
        assert (await booth.join("society", gate.society.id))["ok"] is True, "a PIN session works the gate"
    finally:
        await booth.close()
    audited = await api.get("/v1/audit", admin, params={"actor_id": gate.guard.id, "action": "session.signed_in"})
    assert audited.json()["items"][0]["details"] == {"method": "gate_pin"}
    at_gate = {"scope_type": "society", "scope_id": gate.society.id, "action": "session.signed_in"}
    in_society = await api.get("/v1/audit", admin, params=at_gate)
    assert [e["actor_id"] for e in in_society.json()["items"]] == [gate.guard.id], "filed under the society"


async def test_wrong_pins_devices_and_people_get_nowhere(api: Api, admin: User, gate: Gate) -> None:
    chair, other_chair = await api.signup("Chair"), await api.signup("Other Chair")
    await api.grant(admin, chair, "society_admin", "society", gate.society.id)
    await api.grant(admin, other_chair, "society_admin", "society", gate.other_society.id)
    device = await _device(api, chair, gate.society.id)
    elsewhere = await _device(api, other_chair, gate.other_society.id, "Other tablet")
    assert (await _set_pin(api, chair, gate.society.id, gate.guard, "111111")).status_code == 204

    not_guard = await _set_pin(api, chair, gate.society.id, gate.resident, "222222")
    assert not_guard.status_code == 422 and not_guard.json()["error"]["code"] == "not_a_guard"
    assert (await _set_pin(api, other_chair, gate.society.id, gate.guard, "333333")).status_code == 403
    assert (await _set_pin(api, gate.guard, gate.society.id, gate.guard, "333333")).status_code == 403
    for pin in ("12345", "1234567", "abcdef", 123456):
        bad = await api.client.put(
            f"/v1/societies/{gate.society.id}/guards/{gate.guard.id}/pin", json={"pin": pin}, headers=chair.headers
        )
        assert bad.status_code == 422, pin
    refused_device = await api.post(f"/v1/societies/{gate.society.id}/gate-devices", {"name": "Mine"}, other_chair)
    assert refused_device.status_code == 403

    for attempt in (
        await _sign_in(api, device, gate.guard, "999999"),  # wrong PIN
        await _sign_in(api, device, gate.guard, "111111", secret="ghd_" + "x" * 43),  # wrong secret
        await _sign_in(api, elsewhere, gate.guard, "111111"),  # another society's device
        await _sign_in(api, device, gate.resident, "111111"),  # not a guard, no PIN
    ):
        assert attempt.status_code == 401 and attempt.json()["error"]["code"] == "invalid_credentials", attempt.text
    wrong_roster = await api.client.post(
        f"/v1/gate-devices/{device['device']['id']}/roster", json={"secret": "ghd_" + "y" * 43}
    )
    assert wrong_roster.status_code == 401 and wrong_roster.json()["error"]["code"] == "invalid_device"

    assert (
        await api.client.delete(f"/v1/gate-devices/{device['device']['id']}", headers=other_chair.headers)
    ).status_code == 403
    revoked = await api.client.delete(f"/v1/gate-devices/{device['device']['id']}", headers=chair.headers)
    assert revoked.status_code == 204
    assert (await _sign_in(api, device, gate.guard, "111111")).status_code == 401, "a revoked device signs nobody in"


async def test_pin_tries_are_limited_per_guard_and_per_device(settings: Settings, admin_credentials) -> None:
    """On a server with the real per-account limit (5 in 15 minutes): the sixth wrong PIN is 429, and the
    right one too until the window frees a try."""
    limited = RunningServer(
        replace(settings, rate_limit_account="5/15minutes", redis_prefix=settings.redis_prefix + "pin")
    )
    await limited.start()
    try:
        async with httpx.AsyncClient(base_url=limited.url, timeout=15) as client:
            api = Api(client, limited.url)
            admin_user = await api.login(*admin_credentials)
            society = await api.society(admin_user, flats=1)
            guard = await api.signup("Limited Guard")
            await api.grant(admin_user, guard, "guard", "society", society.id)
            device = await _device(api, admin_user, society.id)
            assert (await _set_pin(api, admin_user, society.id, guard, "246810")).status_code == 204
            statuses = [(await _sign_in(api, device, guard, "000000")).status_code for _ in range(6)]
            assert statuses == [401] * 5 + [429]
            assert (await _sign_in(api, device, guard, "246810")).status_code == 429
    finally:
        await limited.stop()


async def test_the_society_admin_lists_its_guards_and_posts_them_at_gates(api: Api, admin: User, gate: Gate) -> None:
    chair, other_chair = await api.signup("Guards Chair"), await api.signup("Elsewhere Chair")
    await api.grant(admin, chair, "society_admin", "society", gate.society.id)
    await api.grant(admin, other_chair, "society_admin", "society", gate.other_society.id)
    await api.created(f"/v1/societies/{gate.society.id}/gate-devices", {"name": "Tablet"}, chair)
    assert (await _set_pin(api, chair, gate.society.id, gate.guard, "135790")).status_code == 204
    path = f"/v1/societies/{gate.society.id}/guards/{gate.guard.id}"
    posted = await api.client.patch(path, json={"gate": "East gate"}, headers=chair.headers)
    assert posted.status_code == 200, posted.text
    assert (posted.json()["gate"], posted.json()["has_pin"]) == ("East gate", True)
    listed = (await api.get(f"/v1/societies/{gate.society.id}/guards", chair)).json()["items"]
    assert [(g["user_id"], g["name"], g["gate"]) for g in listed] == [(gate.guard.id, "Guard", "East gate")]
    (home,) = (await api.get("/v1/profile/me", gate.guard)).json()["societies"]
    assert (home["id"], home["role"], home["post"]) == (gate.society.id, "guard", "East gate"), "on their home screen"
    (elsewhere_home,) = (await api.get("/v1/profile/me", gate.other_guard)).json()["societies"]
    assert elsewhere_home["post"] is None
    cleared = await api.client.patch(path, json={"gate": None}, headers=chair.headers)
    assert cleared.json()["gate"] is None
    assert (await api.get("/v1/profile/me", gate.guard)).json()["societies"][0]["post"] is None

    assert (await api.get(f"/v1/societies/{gate.society.id}/guards", other_chair)).status_code == 403
    assert (await api.get(f"/v1/societies/{gate.society.id}/guards", gate.guard)).status_code == 403
    elsewhere = f"/v1/societies/{gate.society.id}/guards/{gate.other_guard.id}"
    assert (await api.client.patch(elsewhere, json={"gate": "North"}, headers=chair.headers)).status_code == 404
    assert (await api.client.patch(path, json={"gate": ""}, headers=chair.headers)).status_code == 422
    assert (await api.client.patch(path, json={}, headers=chair.headers)).status_code == 422
