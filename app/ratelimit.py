"""Rate limits kept in Redis, so they hold across every worker.

A general per-IP limit guards the whole API and fails open when Redis is
down (the API stays up); the strict limit on sign-in, sign-up, refresh and
password reset fails closed (503), because those are what attackers hammer.
"""

from __future__ import annotations

import math
import time

import redis.asyncio as aioredis
import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from app.http import RateLimited, Unavailable

log = structlog.get_logger(__name__)


def _storage_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "async+redis+" + redis_url
    return "async+" + redis_url


class RateLimits:
    def __init__(self, redis: aioredis.Redis, *, redis_url: str, prefix: str, general: str, auth: str) -> None:
        storage = RedisStorage(
            _storage_uri(redis_url),
            implementation="redispy",
            key_prefix=f"{prefix}:rl",
            connection_pool=redis.connection_pool,
        )
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self.general: RateLimitItem = parse(general)
        self.auth: RateLimitItem = parse(auth)

    async def _retry_after(self, item: RateLimitItem, *keys: str) -> str:
        stats = await self._limiter.get_window_stats(item, *keys)
        return str(max(1, math.ceil(stats.reset_time - time.time())))

    async def check_general(self, ip: str) -> None:
        """429 when the IP is over the general limit; lets the request through if Redis fails."""
        try:
            if await self._limiter.hit(self.general, "ip", ip):
                return
            retry = await self._retry_after(self.general, "ip", ip)
        except (aioredis.RedisError, OSError):
            log.warning("rate_limit_unavailable", scope="general")
            return
        raise RateLimited(headers={"Retry-After": retry})

    async def check_auth(self, ip: str) -> None:
        """429 over the strict limit for sign-in endpoints; 503 if Redis cannot say."""
        try:
            if await self._limiter.hit(self.auth, "auth", ip):
                return
            retry = await self._retry_after(self.auth, "auth", ip)
        except (aioredis.RedisError, OSError):
            log.warning("rate_limit_unavailable", scope="auth")
            raise Unavailable(headers={"Retry-After": "5"}) from None
        raise RateLimited(headers={"Retry-After": retry})
