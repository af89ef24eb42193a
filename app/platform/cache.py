"""Answers kept in Redis as ready response bytes, shared by every worker, and dropped on every change.

Each entry belongs to a scope (a shop: `shop:<id>`, as its room is named) whose generation, a random token
kept in Redis, is stored at the front of the entry. A transaction that changes anything a scope's answers
show marks the scope stale (`Tx.stale`); once it commits, and before its events go out, the scope gets a
new token, so every entry written before is never read again, and a client that hears of the change reads
it fresh. A reader takes the token in the same round trip as the entry (one MGET) and tags what it then
reads from PostgreSQL with it: a change that commits meanwhile moves the token, so a read that raced one is
never served. A TTL bounds every entry's life should a change's token not reach Redis.

Redis is a convenience here, never a dependency: short timeouts, no retries, and after a failure the cache
is left alone for a second, so reads go straight to PostgreSQL while it is slow or away.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

import redis.asyncio as aioredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from app.platform import metrics, redis_client
from app.platform.http import dumps
from app.platform.timeline import TIMELINE

log = structlog.get_logger(__name__)

T = TypeVar("T")

TIMEOUT = 0.25  # seconds a cache call may take: a local Redis answers in well under a millisecond
REST = 1.0  # seconds the cache is left alone after a call failed
TAG = 16  # bytes of a generation token, at the front of every entry
FAILURES = (RedisError, OSError, TimeoutError)


class Cache:
    """Generational response cache over its own Redis client (short timeouts, no retries)."""

    def __init__(self, redis_url: str, *, prefix: str) -> None:
        self._redis: aioredis.Redis = redis_client.client(
            redis_url,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        self._prefix = f"{prefix}:cache"
        self._resting_until = 0.0
        self._unsent: set[str] = set()  # scopes whose new generation did not reach Redis yet

    async def close(self) -> None:
        await self._redis.aclose()

    def _gen_key(self, scope: str) -> str:
        return f"{self._prefix}:{{{scope}}}:gen"  # braces: a scope's keys share a cluster slot

    async def answer(
        self,
        scope: str,
        kind: str,
        key: object,
        read: Callable[[], Awaitable[T]],
        *,
        ttl: int,
        keep: Callable[[T], bool] = lambda _: True,
    ) -> bytes:
        """The JSON of `read()`, from the cache when an entry of the scope's current generation holds it.
        `key` (its repr) names the answer within the scope; `kind` labels the metrics; `keep` says whether a
        read answer may be shared (whoever asks next gets it); `ttl` 0 is no cache at all."""
        if ttl <= 0:
            return dumps(await read())
        entry_key = f"{self._prefix}:{{{scope}}}:{kind}:{_digest(key)}"
        cached, gen = await self._lookup(scope, entry_key, kind)
        if cached is not None:
            return cached
        value = await read()
        body = dumps(value)
        if gen is not None and keep(value):
            await self._call(self._redis.set(entry_key, gen + body, ex=ttl))
        return body

    async def _lookup(self, scope: str, entry_key: str, kind: str) -> tuple[bytes | None, bytes | None]:
        """(the cached body, None) on a hit; on a miss (None, the generation to tag a fill with), the
        generation None when Redis cannot be used now (then nothing is filled)."""
        if not self.resting and self._unsent:
            unsent, self._unsent = self._unsent, set()
            await self.invalidate(unsent)
        found = None if self.resting else await self._call(self._redis.mget(self._gen_key(scope), entry_key))
        if found is None:
            _count(kind, "unavailable")
            return None, None
        gen, entry = found
        if gen is not None and entry is not None and entry[:TAG] == gen:
            _count(kind, "hit")
            return entry[TAG:], None
        _count(kind, "miss")
        return None, gen if gen is not None else await self._start(scope)

    async def _start(self, scope: str) -> bytes | None:
        """A scope's generation where it has none (never changed, or lost): a new one, or the one another
        reader started first."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(self._gen_key(scope), _token(), nx=True)
        pipe.get(self._gen_key(scope))
        done = await self._call(pipe.execute())
        return None if done is None else done[1]

    @property
    def resting(self) -> bool:
        return time.monotonic() < self._resting_until

    async def invalidate(self, scopes: Collection[str]) -> None:
        """Give each scope a new generation, in one round trip. What fails is sent again before a later
        lookup; meanwhile the entries' TTL bounds what other workers may still serve."""
        pipe = self._redis.pipeline(transaction=False)
        for scope in scopes:
            pipe.set(self._gen_key(scope), _token())
        if await self._call(pipe.execute()) is None:
            self._unsent.update(scopes)
            metrics.CACHE_INVALIDATIONS.labels("failed").inc(len(scopes))
            log.warning("cache_invalidation_failed", scopes=len(scopes))
        else:
            metrics.CACHE_INVALIDATIONS.labels("sent").inc(len(scopes))

    async def _call(self, call: Awaitable[Any]) -> Any:
        """The call's result, or None when Redis failed it (then the cache rests a while)."""
        try:
            return await call
        except FAILURES as exc:
            if not self.resting:
                log.warning("cache_unavailable", error=type(exc).__name__)
            self._resting_until = time.monotonic() + REST
            return None


def _digest(key: object) -> str:
    return hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()


def _token() -> bytes:
    return secrets.token_hex(TAG // 2).encode()


def _count(kind: str, outcome: str) -> None:
    metrics.CACHE_LOOKUPS.labels(kind, outcome).inc()
    TIMELINE.count(f"cache_{outcome}")
