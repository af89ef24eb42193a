"""Password reset by emailed code, through the webhook notifier and a real local gateway."""

from __future__ import annotations

import asyncio

from tests.helpers import PASSWORD, Api


async def test_reset_with_the_emailed_code_sets_the_password_and_ends_sessions(notify_api: Api, gateway) -> None:
    api = notify_api
    user = await api.signup()
    requested = await api.post("/v1/auth/password-reset/request", {"email": user.email})
    assert requested.status_code == 202
    code = await gateway.wait_for(user.email)
    assert len(code) == 6 and code.isdigit()
    confirm = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "brand-new-password"}
    )
    assert confirm.status_code == 204
    # Old sessions are over, the old password is gone, the new one works.
    assert (await api.get("/v1/profile/me", user)).status_code == 401
    assert (await api.post("/v1/auth/refresh", {"refresh_token": user.refresh_token})).status_code == 401
    assert (await api.post("/v1/auth/login", {"email": user.email, "password": PASSWORD})).status_code == 401
    relogin = await api.post("/v1/auth/login", {"email": user.email, "password": "brand-new-password"})
    assert relogin.status_code == 200
    # The code is single use.
    again = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "another-password"}
    )
    assert again.status_code == 422


async def test_unknown_email_gets_the_same_202_and_nothing_is_sent(notify_api: Api, gateway) -> None:
    response = await notify_api.post("/v1/auth/password-reset/request", {"email": "nobody-at-all@example.com"})
    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    await asyncio.sleep(0.3)
    assert all(m["to"] != "nobody-at-all@example.com" for m in gateway.messages)


async def test_wrong_codes_are_counted_and_five_end_the_code(notify_api: Api, gateway, db) -> None:
    api = notify_api
    user = await api.signup()
    await api.post("/v1/auth/password-reset/request", {"email": user.email})
    code = await gateway.wait_for(user.email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        response = await api.post(
            "/v1/auth/password-reset/confirm",
            {"email": user.email, "code": wrong, "new_password": "brand-new-password"},
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_reset_code"
    # After five misses even the right code is refused.
    late = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "brand-new-password"}
    )
    assert late.status_code == 422
    async with db.connection() as conn:
        attempts = await conn.fetchval(
            "SELECT p.attempts FROM password_resets p JOIN users u ON u.id = p.user_id WHERE u.email = $1", user.email
        )
        stored = await conn.fetchval(
            "SELECT count(*) FROM password_resets p JOIN users u ON u.id = p.user_id WHERE p.code_hash = $1::bytea",
            code.encode(),
        )
    assert attempts == 5
    assert stored == 0  # the code is kept only as a keyed hash


async def test_a_new_request_replaces_the_earlier_code(notify_api: Api, gateway) -> None:
    api = notify_api
    user = await api.signup()
    await api.post("/v1/auth/password-reset/request", {"email": user.email})
    first = await gateway.wait_for(user.email)
    gateway.messages = [m for m in gateway.messages if m["to"] != user.email]
    await api.post("/v1/auth/password-reset/request", {"email": user.email})
    second = await gateway.wait_for(user.email)
    if first != second:
        stale = await api.post(
            "/v1/auth/password-reset/confirm",
            {"email": user.email, "code": first, "new_password": "brand-new-password"},
        )
        assert stale.status_code == 422
    fresh = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": second, "new_password": "brand-new-password"}
    )
    assert fresh.status_code == 204


async def test_an_email_the_gateway_refused_is_sent_again_with_a_new_code_that_works(
    notify_api: Api, gateway, db
) -> None:
    api = notify_api
    user = await api.signup()
    gateway.refuse_next = 1
    assert (await api.post("/v1/auth/password-reset/request", {"email": user.email})).status_code == 202
    code = await gateway.wait_for(user.email)
    (refused,) = [m for m in gateway.refused if m["to"] == user.email]
    for _ in range(100):  # the attempt is logged once the gateway has answered
        async with db.connection() as conn:
            outcomes = [
                r["outcome"]
                for r in await conn.fetch(
                    "SELECT outcome FROM notification_logs WHERE template = 'password_reset' AND target = $1 "
                    "ORDER BY id",
                    user.email,
                )
            ]
        if len(outcomes) == 2:
            break
        await asyncio.sleep(0.05)
    assert outcomes == ["failed", "sent"]
    if refused["data"]["code"] != code:  # each attempt draws a new code (one in a million repeats)
        stale = await api.post(
            "/v1/auth/password-reset/confirm",
            {"email": user.email, "code": refused["data"]["code"], "new_password": "brand-new-password"},
        )
        assert stale.status_code == 422
    confirm = await api.post(
        "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "brand-new-password"}
    )
    assert confirm.status_code == 204


async def test_confirming_before_the_code_is_sent_is_refused(notify_api: Api, db) -> None:
    user = await notify_api.signup()
    async with db.transaction() as tx:  # a reset whose email job has not run yet: it has no code
        await tx.conn.execute(
            "INSERT INTO password_resets (user_id, expires_at) VALUES ($1::uuid, now() + interval '10 minutes')",
            user.id,
        )
    for code in ("000000", "123456"):
        response = await notify_api.post(
            "/v1/auth/password-reset/confirm", {"email": user.email, "code": code, "new_password": "brand-new-password"}
        )
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_reset_code"
