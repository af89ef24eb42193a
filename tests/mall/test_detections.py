"""Camera scripts report detections with a mall's API key: shown once, kept hashed, revocable; a
repeated detection joins the issue still open for it, and the mall room hears of it once."""

from __future__ import annotations

import httpx

from tests.helpers import Api, connect, settle
from tests.mall.conftest import Mall

DETECTION = {"issue_type": "crowding", "details": "Queue past the barrier", "location": "Gate 2"}


async def _detect(api: Api, key: str | None, body: dict | None = None) -> httpx.Response:
    headers = {"x-api-key": key} if key is not None else {}
    return await api.client.post("/v1/model-issues", json=body or DETECTION, headers=headers)


async def test_a_cameras_detections_reach_the_mall_once_and_join_the_open_issue(
    api: Api, server, mall: Mall, db
) -> None:
    made = await api.created(f"/v1/malls/{mall.id}/api-keys", {"name": "Gate 2 camera"}, mall.mall_admin)
    key = made["key"]
    assert key.startswith("ghk_") and made["prefix"] == key[:12]
    async with db.connection() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM mall_api_keys WHERE key_hash::text LIKE $1", f"%{key}%")
    assert stored == 0, "only a hash is kept"
    listed = await api.get(f"/v1/malls/{mall.id}/api-keys", mall.mall_admin)
    assert [k["name"] for k in listed.json()["items"]] == ["Gate 2 camera"] and "key" not in listed.json()["items"][0]

    staff = await connect(server.url, mall.security.access_token)
    try:
        assert (await staff.join("mall", mall.id))["ok"] is True
        first = await _detect(api, key)
        assert first.status_code == 201 and first.json()["source"] == "model"
        again = await _detect(api, key, {**DETECTION, "location": " Gate 2 "})
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert again.json()["detections"] == 2 and again.json()["last_seen_at"]
        elsewhere = await _detect(api, key, {**DETECTION, "location": "Gate 3"})
        assert elsewhere.status_code == 201
        await settle()
        detected = staff.of("model_issue_detected")
        assert sorted(e["data"]["id"] for e in detected) == sorted([first.json()["id"], elsewhere.json()["id"]])
    finally:
        await staff.close()

    issue_id = first.json()["id"]
    for to in ("in_progress", "resolved"):
        assert (await api.post(f"/v1/issues/{issue_id}/move", {"to": to}, mall.security)).status_code == 200
    fresh = await _detect(api, key)
    assert fresh.status_code == 201 and fresh.json()["id"] != issue_id, "a resolved issue is not joined"
    used = (await api.get(f"/v1/malls/{mall.id}/api-keys", mall.mall_admin)).json()["items"][0]
    assert used["last_used_at"] is not None


async def test_wrong_or_revoked_keys_are_401_before_anything_is_read(api: Api, mall: Mall) -> None:
    made = await api.created(f"/v1/malls/{mall.id}/api-keys", {"name": "Doomed"}, mall.mall_admin)
    assert (await _detect(api, None)).status_code == 401
    assert (await _detect(api, "ghk_not-a-key")).status_code == 401
    assert (await _detect(api, made["key"], {"issue_type": ""})).status_code == 422, "a live key gets to the body"
    path = f"/v1/malls/{mall.id}/api-keys/{made['id']}"
    assert (await api.client.delete(path, headers=mall.security.headers)).status_code == 403
    assert (await api.client.delete(path, headers=mall.mall_admin.headers)).status_code == 204
    revoked = await _detect(api, made["key"], {"issue_type": ""})
    assert revoked.status_code == 401 and revoked.json()["error"]["code"] == "invalid_api_key"


async def test_only_the_malls_admins_make_keys(api: Api, mall: Mall) -> None:
    for outsider in (mall.security, mall.shopper, mall.other_security):
        assert (await api.post(f"/v1/malls/{mall.id}/api-keys", {"name": "x"}, outsider)).status_code == 403
        assert (await api.get(f"/v1/malls/{mall.id}/api-keys", outsider)).status_code == 403


async def test_a_detected_issue_carries_its_image_and_shop_and_is_worked_like_any_other(
    api: Api, admin, mall: Mall
) -> None:
    made = await api.created(f"/v1/malls/{mall.id}/api-keys", {"name": "Food court camera"}, mall.mall_admin)
    shop = await api.created(
        "/v1/shops", {"mall_id": mall.id, "name": "Noodle Bar", "shop_type": "food"}, mall.mall_admin
    )
    far = await api.created("/v1/shops", {"mall_id": mall.other_id, "name": "Far Bar", "shop_type": "food"}, admin)
    seen = {
        "issue_type": "smoke",
        "details": "Smoke near the counter",
        "shop_id": shop["id"],
        "image_url": "https://cameras.example.com/frames/42.jpg",
    }
    wrong_shop = await _detect(api, made["key"], {**seen, "shop_id": far["id"]})
    assert wrong_shop.status_code == 422 and wrong_shop.json()["error"]["code"] == "shop_not_in_mall"
    assert (await _detect(api, made["key"], {**seen, "image_url": "javascript:alert(1)"})).status_code == 422
    detected = await _detect(api, made["key"], seen)
    assert detected.status_code == 201, detected.text
    issue = detected.json()
    assert issue["image_url"] == seen["image_url"] and issue["shop_id"] == shop["id"]
    found = await api.get("/v1/issues", mall.security, params={"mall_id": mall.id, "source": "model"})
    assert [i["id"] for i in found.json()["items"]] == [issue["id"]]
    assigned = await api.post(f"/v1/issues/{issue['id']}/assign", {"user_ids": [mall.security.id]}, mall.mall_admin)
    assert assigned.status_code == 200 and assigned.json()["state"] == "assigned"
    moved = await api.post(f"/v1/issues/{issue['id']}/move", {"to": "in_progress"}, mall.security)
    assert moved.status_code == 200 and [m["to_state"] for m in moved.json()["history"]] == [
        "open",
        "assigned",
        "in_progress",
    ]
