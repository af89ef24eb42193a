"""What operators use: /metrics only for a scraper with METRICS_TOKEN (or, without one, this machine),
and /readyz cheap however often it is asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
import redis.asyncio as aioredis

from tests.conftest import RunningServer

TOKEN = "scrape-" + "t" * 40


@pytest.fixture(scope="module")
async def behind_proxy(settings) -> AsyncIterator[httpx.AsyncClient]:
    """A server that believes 127.0.0.1's X-Forwarded-For, so a request can come from elsewhere."""
    server = RunningServer(replace(settings, trusted_proxies=("127.0.0.1",)))
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield client
    await server.stop()


@pytest.fixture(scope="module")
async def with_token(settings) -> AsyncIterator[httpx.AsyncClient]:
    server = RunningServer(replace(settings, metrics_token=TOKEN))
    await server.start()
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
        yield client
    await server.stop()


async def test_without_a_token_metrics_are_for_this_machine_only(behind_proxy: httpx.AsyncClient) -> None:
    assert (await behind_proxy.get("/metrics")).status_code == 200
    outside = await behind_proxy.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "not_found"


async def test_with_a_token_metrics_need_it(with_token: httpx.AsyncClient) -> None:
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
        assert (await with_token.get("/metrics", headers=headers)).status_code == 404
    scraped = await with_token.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200 and "gatehouse_http_requests_total" in scraped.text


async def _pings(redis_url: str) -> int:
    client = aioredis.from_url(redis_url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return int(stats.get("cmdstat_ping", {}).get("calls", 0))


async def test_readyz_asks_the_services_at_most_once_a_second(behind_proxy: httpx.AsyncClient, settings) -> None:
    assert settings.redis_url is not None
    before = await _pings(settings.redis_url)
    answers = await asyncio.gather(*(behind_proxy.get("/readyz") for _ in range(50)))
    after = await _pings(settings.redis_url)
    assert {a.status_code for a in answers} == {200}
    assert all(a.json()["status"] == "ready" for a in answers)
    assert after - before <= 3  # 50 without the kept answer; one, or two across a second's turn
