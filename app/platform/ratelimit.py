"""Rate limits kept in Redis, so they hold across every worker.

A general per-IP limit guards the whole API and fails open when Redis is
down (the API stays up); the strict limit on sign-in, sign-up, refresh and
password reset fails closed (503), because those are what attackers hammer.

The general limit runs on every request, so it is counted in the worker and
merged into Redis in batches (`BatchedWindow`) instead of one Redis call per
request; the auth limit is exact, one sliding-window check per attempt.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict

import redis.asyncio as aioredis
import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from app.platform.http import RateLimited, Unavailable

log = structlog.get_logger(__name__)


def _storage_uri(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "async+redis+" + redis_url
    return "async+" + redis_url


class BatchedWindow:
    """A fixed-window count per client, kept in this worker and added to Redis every `flush_every` s.

    Exact within one worker. Across workers a client can get past the limit by what the other
    workers admitted since their last flush (a tenth of a second of traffic), which is fine for a
    limit that exists to stop floods, and costs no Redis call on the request path.
    """

    def __init__(self, redis: aioredis.Redis, item: RateLimitItem, *, key_prefix: str, flush_every: float = 0.1):
        self._redis = redis
        self._amount = item.amount
        self._window = item.get_expiry()
        self._key_prefix = key_prefix
        self._flush_every = flush_every
        self._current = -1
        self._known: dict[str, int] = {}  # counts Redis returned at the last flush
        self._pending: defaultdict[str, int] = defaultdict(int)  # hits not yet added to Redis
        self._flusher: asyncio.Task[None] | None = None

    def hit(self, client: str) -> int | None:
        """Count one request; None to let it through, else the seconds until the window turns."""
        now = time.time()
        window = int(now // self._window)
        if window != self._current:
            self._current = window
            self._known.clear()
            self._pending.clear()
        if self._known.get(client, 0) + self._pending.get(client, 0) >= self._amount:
            return max(1, math.ceil((window + 1) * self._window - now))
        self._pending[client] += 1
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_soon())
        return None

    async def _flush_soon(self) -> None:
        try:
            await asyncio.sleep(self._flush_every)
            await self.flush()
        finally:
            self._flusher = None

    async def flush(self) -> None:
        pending, self._pending = self._pending, defaultdict(int)
        window = self._current
        if not pending:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for client, hits in pending.items():
                    key = f"{self._key_prefix}:{window}:{client}"
                    pipe.incrby(key, hits)
                    pipe.expire(key, self._window + 1)
                replies = await pipe.execute()
        except (aioredis.RedisError, OSError):
            log.warning("rate_limit_unavailable", scope="general")
            for client, hits in pending.items():
                self._known[client] = self._known.get(client, 0) + hits
            return
        if window == self._current:
            for client, total in zip(pending, replies[::2], strict=True):
                self._known[client] = total


class RateLimits:
    def __init__(self, redis: aioredis.Redis, *, redis_url: str, prefix: str, general: str, auth: str) -> None:
        storage = RedisStorage(
            _storage_uri(redis_url),
            implementation="redispy",
            key_prefix=f"{prefix}:rl",
            connection_pool=redis.connection_pool,
        )
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._general = BatchedWindow(redis, parse(general), key_prefix=f"{prefix}:rlg")
        self.auth: RateLimitItem = parse(auth)

    async def _retry_after(self, item: RateLimitItem, *keys: str) -> str:
        stats = await self._limiter.get_window_stats(item, *keys)
        return str(max(1, math.ceil(stats.reset_time - time.time())))

    def check_general(self, ip: str) -> None:
        """429 when the IP is over the general limit; Redis being down lets requests through."""
        retry = self._general.hit(ip)
        if retry is not None:
            raise RateLimited(headers={"Retry-After": str(retry)})

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
