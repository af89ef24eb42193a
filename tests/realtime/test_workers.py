"""Several worker processes behind one Redis: events, rights changes and rate
limits hold across them. Each worker here is a real uvicorn process.
"""

from __future__ import annotations

import asyncio
import secrets

import httpx

from tests.helpers import PASSWORD, Api, connect, settle
from tests.realtime.conftest import start_workers, stop_workers


async def test_an_event_from_a_request_on_one_worker_reaches_a_socket_on_another(api: Api, admin, workers) -> None:
    worker_a, worker_b = workers
    society = await api.society(admin, flats=1)
    user = await api.signup()
    listener = await connect(worker_b.url, user.access_token)
    try:
        async with httpx.AsyncClient(base_url=worker_a.url) as client:
            response = await client.post(
                "/v1/admin/role-assignments",
                headers=admin.headers,
                json={"user_id": user.id, "role": "resident", "scope_type": "flat", "scope_id": society.flats[0]},
            )
        assert response.status_code == 201
        (granted,) = await listener.wait_for("role_granted")
        assert granted["data"]["id"] == response.json()["id"]
        assert granted["room"] == f"user:{user.id}"
        # The new role is usable on the other worker at once.
        assert (await listener.join("flat", society.flats[0]))["ok"] is True
    finally:
        await listener.close()


async def test_society_events_reach_every_socket_on_every_worker_in_order(api: Api, admin, workers) -> None:
    society = await api.society(admin, flats=1)
    guard, resident = await api.signup("Gate"), await api.signup("Home")
    await api.grant(admin, guard, "guard", "society", society.id)
    await api.grant(admin, resident, "resident", "flat", society.flats[0])
    listeners = [await connect(workers[i % 2].url, guard.access_token) for i in range(40)]
    try:
        for listener in listeners:
            assert (await listener.join("society", society.id))["ok"] is True
        ids = [
            (await api.post("/v1/visitors", {"flat_id": society.flats[0], "name": name}, guard)).json()["id"]
            for name in ("First", "Second")
        ]
        async with httpx.AsyncClient(base_url=workers[0].url) as client:
            for visitor_id, decision in zip(ids, ("approve", "deny"), strict=True):
                answer = await client.post(
                    f"/v1/visitors/{visitor_id}/respond", headers=resident.headers, json={"decision": decision}
                )
                assert answer.status_code == 200
        for listener in listeners:
            await listener.wait_for("request_denied")
            answers = [data for name, data in listener.events if name.startswith("request_")]
            assert [(a["type"], a["data"]["id"]) for a in answers] == [
                ("request_approved", ids[0]),
                ("request_denied", ids[1]),
            ]
            assert answers[0]["event_id"] < answers[1]["event_id"]
    finally:
        for listener in listeners:
            await listener.close()


async def test_logout_on_one_worker_closes_the_socket_on_another(api: Api, workers) -> None:
    worker_a, worker_b = workers
    user = await api.signup()
    listener = await connect(worker_b.url, user.access_token)
    try:
        async with httpx.AsyncClient(base_url=worker_a.url) as client:
            response = await client.post("/v1/auth/logout", headers=user.headers, json={})
        assert response.status_code == 204
        assert await listener.closed_by_server()
        # Worker B had the session cached from the handshake; the logout evicted it there too.
        async with httpx.AsyncClient(base_url=worker_b.url) as client:
            statuses = []
            for _ in range(50):
                statuses.append((await client.get("/v1/profile/me", headers=user.headers)).status_code)
                if statuses[-1] == 401:
                    break
                await settle(0.05)
        assert statuses[-1] == 401
    finally:
        await listener.close()


async def test_the_auth_rate_limit_holds_across_workers(settings) -> None:
    limited = await start_workers(
        settings, 2, RATE_LIMIT_AUTH="3/minute", REDIS_PREFIX=f"{settings.redis_prefix}-{secrets.token_hex(3)}"
    )
    try:
        statuses = []
        async with httpx.AsyncClient() as client:
            for i in range(5):
                worker = limited[i % 2]
                response = await client.post(
                    worker.url + "/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
                )
                statuses.append(response.status_code)
                if response.status_code == 429:
                    assert int(response.headers["retry-after"]) > 0
                    assert response.json()["error"]["code"] == "rate_limited"
        assert statuses == [401, 401, 401, 429, 429]
    finally:
        stop_workers(limited)


async def test_the_general_rate_limit_holds_across_workers(settings) -> None:
    """Each worker counts locally and adds its counts to Redis every tenth of a second, so two
    workers together admit the limit, give or take what one admitted before hearing of the other."""
    # A day-long window, so the run never straddles the turn of a window.
    limited = await start_workers(
        settings, 2, RATE_LIMIT_GENERAL="6/day", REDIS_PREFIX=f"{settings.redis_prefix}-{secrets.token_hex(3)}"
    )
    try:
        statuses = []
        async with httpx.AsyncClient() as client:
            for i in range(14):
                response = await client.get(limited[i % 2].url + "/v1/cities")
                statuses.append(response.status_code)
                await asyncio.sleep(0.25)
        assert statuses[:6] == [401] * 6
        assert statuses.count(401) <= 7, statuses  # each worker alone would have let 12 through
        assert statuses[-4:] == [429] * 4
    finally:
        stop_workers(limited)


async def test_with_redis_down_auth_fails_closed_and_the_rest_stays_up(settings) -> None:
    dead = await start_workers(settings, 1, REDIS_URL="redis://127.0.0.1:1/0")
    try:
        async with httpx.AsyncClient(base_url=dead[0].url) as client:
            login = await client.post("/v1/auth/login", json={"email": "a@example.com", "password": PASSWORD})
            assert login.status_code == 503
            assert login.json()["error"]["code"] == "unavailable"
            assert (await client.get("/v1/cities")).status_code == 401
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["postgres"] == "ok"
            assert ready.json()["checks"]["redis"].startswith("unavailable")
    finally:
        stop_workers(dead)
