"""The general limit's per-worker window against a real Redis: exact within one worker even while a
flush is on its way to Redis (hits in flight still count), and the window's count comes back from Redis."""

from __future__ import annotations

import asyncio
import secrets

import redis.asyncio as aioredis
from limits import parse

from app.platform.ratelimit import BatchedWindow


async def test_hits_on_their_way_to_redis_still_count(settings) -> None:
    client = aioredis.Redis.from_url(settings.redis_url)
    window = BatchedWindow(client, parse("5/day"), key_prefix=f"{settings.redis_prefix}:rlw:{secrets.token_hex(4)}")
    try:
        assert [window.hit("203.0.113.9") for _ in range(3)] == [None, None, None]
        flush = asyncio.create_task(window.flush())
        await asyncio.sleep(0)  # the flush has taken the three hits and waits for Redis
        assert [window.hit("203.0.113.9") for _ in range(2)] == [None, None]
        assert window.hit("203.0.113.9") is not None, "the sixth request is refused, flush or no flush"
        await flush
        assert window.hit("203.0.113.9") is not None
        assert window.hit("198.51.100.1") is None, "another address has its own count"
        await window.flush()
        keys = [k async for k in client.scan_iter(match=f"{settings.redis_prefix}:rlw:*")]
        counts = sorted([int(await client.get(k)) for k in keys])
        assert counts == [1, 5]
    finally:
        for key in [k async for k in client.scan_iter(match=f"{settings.redis_prefix}:rlw:*")]:
            await client.delete(key)
        await client.aclose()
