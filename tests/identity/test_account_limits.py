"""Guessing one account's password or reset code from many addresses is limited per account, and
reset e-mails per account, without telling anyone whether the account exists."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from tests.conftest import RunningServer
from tests.gateway import Gateway
from tests.helpers import PASSWORD, Api

FAILURES = 3


@pytest.fixture(scope="module")
async def guarded(settings, gateway: Gateway) -> AsyncIterator[Api]:
    server = RunningServer(
        replace(
            settings,
            rate_limit_account=f"{FAILURES}/15minutes",
            rate_limit_reset_emails="2/hour",
            trusted_proxies=("127.0.0.1",),  # so each attempt can come from another address
            notify_webhook_url=gateway.url,
            run_jobs=True,
        )
    )
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield Api(client, server.url)
    await server.stop()


def _from(n: int) -> dict[str, str]:
    return {"x-forwarded-for": f"203.0.113.{n}"}


async def test_wrong_passwords_from_many_addresses_lock_the_account_not_others(guarded: Api) -> None:
    victim, bystander = await guarded.signup(), await guarded.signup()
    for n in range(FAILURES):
        wrong = await guarded.post(
            "/v1/auth/login", {"email": victim.email, "password": f"guess-{n}"}, headers=_from(n)
        )
        assert wrong.status_code == 401
    right = await guarded.post("/v1/auth/login", {"email": victim.email, "password": PASSWORD}, headers=_from(99))
    assert right.status_code == 429 and right.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(right.headers["retry-after"]) <= 15 * 60
    other = await guarded.post("/v1/auth/login", {"email": bystander.email, "password": PASSWORD}, headers=_from(1))
    assert other.status_code == 200


async def test_an_unknown_account_is_limited_the_same_way(guarded: Api) -> None:
    ghost = "nobody-here@example.com"
    answers = [
        (await guarded.post("/v1/auth/login", {"email": ghost, "password": "x" * 10}, headers=_from(n))).status_code
        for n in range(FAILURES + 1)
    ]
    assert answers == [401] * FAILURES + [429]


async def test_reset_emails_per_account_are_capped_and_the_answer_never_changes(guarded: Api, gateway: Gateway) -> None:
    user = await guarded.signup()
    for n in range(4):
        response = await guarded.post("/v1/auth/password-reset/request", {"email": user.email}, headers=_from(n))
        assert (response.status_code, response.json()) == (202, {"status": "accepted"})
        if n < 2:
            await gateway.wait_for(user.email)
    await asyncio.sleep(0.5)
    assert len([m for m in gateway.messages if m["to"] == user.email]) == 2


async def test_wrong_reset_codes_count_against_the_account(guarded: Api, gateway: Gateway) -> None:
    user = await guarded.signup()
    await guarded.post("/v1/auth/password-reset/request", {"email": user.email})
    code = await gateway.wait_for(user.email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for n in range(FAILURES):
        body = {"email": user.email, "code": wrong, "new_password": "brand-new-password"}
        assert (await guarded.post("/v1/auth/password-reset/confirm", body, headers=_from(n))).status_code == 422
    body = {"email": user.email, "code": code, "new_password": "brand-new-password"}
    assert (await guarded.post("/v1/auth/password-reset/confirm", body, headers=_from(50))).status_code == 429
