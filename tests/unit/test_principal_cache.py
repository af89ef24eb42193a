"""A read of rights that raced an eviction never lands in the cache (the rights may be revoked ones)."""

from __future__ import annotations

import asyncio
import uuid

from app.platform.security.permissions import Grant, Principal
from app.platform.security.principals import PrincipalCache


def _principal(user_id: uuid.UUID, session_id: uuid.UUID) -> Principal:
    return Principal(user_id, session_id, "Asha", None, (Grant("resident", "flat", uuid.uuid4()),))


def test_a_read_that_began_before_an_eviction_is_not_kept() -> None:
    cache = PrincipalCache(ttl=30)
    user, session = uuid.uuid4(), uuid.uuid4()
    ticket = cache.ticket()  # the request starts reading the user's rights
    cache.evict_user(user)  # meanwhile an admin revokes a role; every worker evicts the user
    cache.put(_principal(user, session), ticket)  # the read, with the old rights, comes back
    assert cache.get(user, session) is None


def test_a_read_after_the_eviction_is_kept_until_the_next() -> None:
    cache = PrincipalCache(ttl=30)
    user, session = uuid.uuid4(), uuid.uuid4()
    cache.evict_user(user)
    principal = _principal(user, session)
    cache.put(principal, cache.ticket())
    assert cache.get(user, session) == principal
    cache.evict_user(user)
    assert cache.get(user, session) is None


async def test_callers_missing_one_entry_at_once_share_one_read() -> None:
    cache = PrincipalCache(ttl=30)
    user, session = uuid.uuid4(), uuid.uuid4()
    principal = _principal(user, session)
    reads = 0
    release = asyncio.Event()

    async def read() -> Principal:
        nonlocal reads
        reads += 1
        await release.wait()
        return principal

    waiting = [asyncio.ensure_future(cache.load(user, session, read)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [principal] * 20
    assert reads == 1, "twenty callers, one database read"
    assert await cache.load(user, session, read) == principal and reads == 1, "and the next one is cached"


async def test_a_read_under_way_when_rights_change_is_neither_shared_nor_kept() -> None:
    cache = PrincipalCache(ttl=30)
    user, session = uuid.uuid4(), uuid.uuid4()
    old, new = _principal(user, session), _principal(user, session)
    release = asyncio.Event()

    async def slow_old() -> Principal:
        await release.wait()
        return old

    async def fresh() -> Principal:
        return new

    before = asyncio.ensure_future(cache.load(user, session, slow_old))
    await asyncio.sleep(0)
    cache.evict_user(user)  # a role is revoked while the first read is on its way
    assert await cache.load(user, session, fresh) == new, "a caller after the change reads anew"
    release.set()
    assert await before == old
    assert cache.get(user, session) == new, "the stale read did not overwrite the fresh one"


def test_entries_put_together_expire_over_a_spread() -> None:
    cache = PrincipalCache(ttl=100)
    ticket = cache.ticket()
    for _ in range(200):
        cache.put(_principal(uuid.uuid4(), uuid.uuid4()), ticket)
    lifetimes = [expires for expires, _ in cache._entries.values()]
    assert max(lifetimes) - min(lifetimes) > 10, "not all at once"
    assert max(lifetimes) - min(lifetimes) <= 20.5, "within the last fifth of the TTL"
