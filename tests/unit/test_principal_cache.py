"""A read of rights that raced an eviction never lands in the cache (the rights may be revoked ones)."""

from __future__ import annotations

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
