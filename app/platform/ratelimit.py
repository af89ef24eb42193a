"""Rate limits kept in Redis, so they hold across every worker.

A general per-IP limit guards the whole API and fails open when Redis is
down (the API stays up); the strict limit on sign-in, sign-up, refresh and
password reset fails closed (503), because those are what attackers hammer.

Sign-in and password reset are also limited per account, whatever address
the attempts come from: failures (a wrong password, a wrong reset code) per
account in a sliding window (then 429 until the window lets one through), and
reset e-mails per account. IPv6 clients are counted by their /64.

The general limit runs on every request, so it is counted in the worker and
merged into Redis in batches (`BatchedWindow`) instead of one Redis call per
request; the auth limit is exact, one sliding-window check per attempt.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
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
        self._in_flight: list[dict[str, int]] = []  # hits on their way to Redis, still counted here
        self._flusher: asyncio.Task[None] | None = None

    def hit(self, client: str) -> int | None:
        """Count one request; None to let it through, else the seconds until the window turns."""
        now = time.time()
        window = int(now // self._window)
        if window != self._current:
            self._current = window
            self._known.clear()
            self._pending.clear()
            self._in_flight = []
        flying = sum(flight.get(client, 0) for flight in self._in_flight)
        if self._known.get(client, 0) + flying + self._pending.get(client, 0) >= self._amount:
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
        """Add the pending hits to Redis. Until its answer comes they stay counted as in flight: a slow
        round trip must not let requests through that the hits it carries would have stopped."""
        pending, self._pending = self._pending, defaultdict(int)
        window = self._current
        if not pending:
            return
        self._in_flight.append(pending)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for client, hits in pending.items():
                    key = f"{self._key_prefix}:{window}:{client}"
                    pipe.incrby(key, hits)
                    pipe.expire(key, self._window + 1)
                replies = await pipe.execute()
        except (aioredis.RedisError, OSError):
            log.warning("rate_limit_unavailable", scope="general")
            if window == self._current:
                for client, hits in pending.items():
                    self._known[client] = self._known.get(client, 0) + hits
            return
        finally:
            self._in_flight = [flight for flight in self._in_flight if flight is not pending]
        if window == self._current:
            for client, total in zip(pending, replies[::2], strict=True):
                self._known[client] = total


def client_key(ip: str) -> str:
    """What a limit counts an address as: itself, or for IPv6 its /64 (one subscriber's whole range)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def account_key(name: str) -> str:
    """An account as limits count it: its normalised e-mail, hashed, so no address sits in Redis."""
    return hashlib.sha256(name.strip().lower().encode()).hexdigest()[:32]


class RateLimits:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        redis_url: str,
        prefix: str,
        general: str,
        auth: str,
        account_failures: str,
        account_resets: str,
        per_user: dict[str, str],
    ) -> None:
        storage = RedisStorage(
            _storage_uri(redis_url),
            implementation="redispy",
            key_prefix=f"{prefix}:rl",
            connection_pool=redis.connection_pool,
        )
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._general = BatchedWindow(redis, parse(general), key_prefix=f"{prefix}:rlg")
        self.auth: RateLimitItem = parse(auth)
        self._account_failures = parse(account_failures)
        self._account_resets = parse(account_resets)
        self._per_user = {action: parse(rate) for action, rate in per_user.items()}

    async def _retry_after(self, item: RateLimitItem, *keys: str) -> int:
        stats = await self._limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def check_general(self, ip: str) -> None:
        """429 when the IP is over the general limit; Redis being down lets requests through."""
        retry = self._general.hit(client_key(ip))
        if retry is not None:
            raise RateLimited(retry_after=retry)

    async def _enforce(
        self, item: RateLimitItem, scope: str, key: str, *, count: bool = True, message: str | None = None
    ) -> None:
        """Take one from `item`'s allowance for `key` (or, with `count=False`, only look); 429 with
        Retry-After when there is none, 503 when Redis cannot say (these limits fail closed)."""
        try:
            allowed = await (self._limiter.hit if count else self._limiter.test)(item, scope, key)
            if allowed:
                return
            retry = await self._retry_after(item, scope, key)
        except (aioredis.RedisError, OSError):
            log.warning("rate_limit_unavailable", scope=scope)
            raise Unavailable(headers={"Retry-After": "5"}) from None
        raise RateLimited(message, retry_after=retry)

    async def check_auth(self, ip: str) -> None:
        """429 over the strict limit for sign-in endpoints; 503 if Redis cannot say."""
        await self._enforce(self.auth, "auth", client_key(ip))

    async def check_account(self, action: str, account: str) -> None:
        """429 while `account` has used up its failures for `action` (login, reset confirm) in the window,
        whichever address they came from; 503 if Redis cannot say. Looks only: failures are counted apart."""
        await self._enforce(
            self._account_failures,
            action,
            account_key(account),
            count=False,
            message="Too many failed attempts for this account; try again later.",
        )

    async def count_account_failure(self, action: str, account: str) -> None:
        """Count one failure of `action` against `account` (a wrong password or reset code)."""
        try:
            await self._limiter.hit(self._account_failures, action, account_key(account))
        except (aioredis.RedisError, OSError):
            log.warning("rate_limit_unavailable", scope="account")

    async def take_reset(self, account: str) -> bool:
        """Whether `account` may be sent another reset code now; False once it had its share in the window
        (the caller still answers as if it sent one, so the limit tells nobody the account exists)."""
        try:
            return await self._limiter.hit(self._account_resets, "reset", account_key(account))
        except (aioredis.RedisError, OSError):
            log.warning("rate_limit_unavailable", scope="reset")
            return False

    async def allow_user(self, action: str, user_id: object) -> bool:
        """Count one `action` by `user_id` against its limit, on whichever worker; False past it. A flood
        guard over per-connection ones, so it fails open: True when Redis cannot say."""
        try:
            return await self._limiter.hit(self._per_user[action], action, str(user_id))
        except (aioredis.RedisError, OSError):
            log.warning("rate_limit_unavailable", scope=action)
            return True

    async def check_user(self, action: str, user_id: object) -> None:
        """429 once `user_id` has done `action` (a message that costs money or reaches a stranger, a request
        an admin must read) as often as its limit allows; counts this one otherwise. 503 if Redis cannot say."""
        await self._enforce(self._per_user[action], action, str(user_id))
