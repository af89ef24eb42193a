"""The generational cache on a real Redis: a read that raced a change is never served, a lost generation
serves nothing old, Redis away costs a read from the source and no more, and a change that could not reach
Redis reaches it before the worker serves from the cache again."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from app.platform.cache import REST, Cache
from tests.conftest import free_port
from tests.realtime.test_redis_outage import OwnRedis

SCOPE = "shop:test"


class Source:
    """What the cache stands in front of: a value, and how many times it was read."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.reads = 0

    async def read(self) -> dict:
        self.reads += 1
        return {"value": self.value}


@pytest.fixture
async def cache(services) -> AsyncIterator[Cache]:
    made = Cache(services.redis_url, prefix=f"{services.prefix}{secrets.token_hex(3)}")
    yield made
    await made.close()


async def _answer(cache: Cache, source: Source) -> bytes:
    return await cache.answer(SCOPE, "test", "key", source.read, ttl=60)


async def test_answers_are_kept_until_their_scope_changes(cache: Cache) -> None:
    source = Source("first")
    assert [await _answer(cache, source) for _ in range(3)] == [b'{"value":"first"}'] * 3
    assert source.reads == 1
    source.value = "second"
    await cache.invalidate({SCOPE})
    assert await _answer(cache, source) == b'{"value":"second"}' and source.reads == 2
    assert await cache.answer(SCOPE, "test", "another key", source.read, ttl=60) == b'{"value":"second"}'
    assert await cache.answer(SCOPE, "test", "key", source.read, ttl=0) and source.reads == 4, "ttl 0: no cache"


async def test_a_read_that_raced_a_change_is_not_served(cache: Cache) -> None:
    source = Source("before")

    async def racing() -> dict:
        read = await source.read()
        source.value = "after"
        await cache.invalidate({SCOPE})  # the change commits while the read is on its way
        return read

    assert await cache.answer(SCOPE, "test", "key", racing, ttl=60) == b'{"value":"before"}'
    assert await _answer(cache, source) == b'{"value":"after"}'
    assert await _answer(cache, source) == b'{"value":"after"}' and source.reads == 2


async def test_a_lost_generation_serves_nothing_kept_before(cache: Cache, services) -> None:
    source = Source("old")
    await _answer(cache, source)
    await _answer(cache, source)
    redis = aioredis.from_url(services.redis_url)
    try:
        (gen_key,) = [k async for k in redis.scan_iter(match=f"{cache._prefix}:*:gen")]
        await redis.delete(gen_key)  # evicted, say, while its entries stayed
    finally:
        await redis.aclose()
    source.value = "new"
    assert await _answer(cache, source) == b'{"value":"new"}' and source.reads == 2


async def test_redis_away_costs_one_read_of_the_source_and_no_wait() -> None:
    away = Cache(f"redis://127.0.0.1:{free_port()}/0", prefix="nowhere")
    source = Source("from the source")
    try:
        started = time.monotonic()
        for _ in range(20):
            assert await _answer(away, source) == b'{"value":"from the source"}'
        assert source.reads == 20 and time.monotonic() - started < 1.0
        assert away.resting, "after a failure the cache is left alone a while"
    finally:
        await away.close()


@pytest.fixture
async def paused_redis() -> AsyncIterator[tuple[OwnRedis, aioredis.Redis]]:
    """A redis-server of the test's own (pausing the shared one would stall everyone's tests), and a client."""
    own = OwnRedis()
    own.start()
    admin = aioredis.from_url(own.url)
    try:
        for _ in range(100):
            try:
                await admin.ping()
                break
            except (aioredis.ConnectionError, OSError):
                time.sleep(0.02)
        yield own, admin
    finally:
        await admin.aclose()
        own.kill()


async def test_a_change_that_missed_redis_reaches_it_before_the_next_lookup(paused_redis) -> None:
    own, admin = paused_redis
    writer, reader = Cache(own.url, prefix="resend"), Cache(own.url, prefix="resend")
    source = Source("old")
    try:
        await _answer(reader, source)
        await _answer(reader, source)
        await admin.execute_command("CLIENT", "PAUSE", "500", "WRITE")  # Redis keeps its data, answers late
        source.value = "new"
        await writer.invalidate({SCOPE})  # the change committed; Redis did not hear of it in time
        assert writer.resting
        time.sleep(REST)
        assert await _answer(writer, source) == b'{"value":"new"}', "sent again first, then looked up"
        assert await _answer(reader, source) == b'{"value":"new"}'
    finally:
        await writer.close()
        await reader.close()
