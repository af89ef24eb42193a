"""Per-worker cache of who a token's session belongs to and what it may do.

Saves the database round trip every authenticated request would otherwise
make. Rights changes evict a user's entries on every worker at once (through
the realtime hub's control channel, and locally before that); the TTL bounds
how stale an entry could get if such a message were lost.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict

from app.platform.security.permissions import Principal

Key = tuple[uuid.UUID, uuid.UUID | None]


class PrincipalCache:
    def __init__(self, *, ttl: float, max_entries: int = 50_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[Key, tuple[float, Principal]] = OrderedDict()
        # Counts evictions, so a read from the database that began before one cannot store what it read
        # after it (the rights it holds may be the ones just revoked).
        self._epoch = 0

    def get(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> Principal | None:
        found = self._entries.get((user_id, session_id))
        if found is None:
            return None
        expires, principal = found
        if expires < time.monotonic():
            del self._entries[(user_id, session_id)]
            return None
        return principal

    def ticket(self) -> int:
        """Take before reading a principal from the database; hand it to `put`."""
        return self._epoch

    def put(self, principal: Principal, ticket: int) -> None:
        """Keep `principal`, unless any user's rights changed since `ticket` was taken (then the next
        request reads again: rights changes are rare, and a stale entry must never land)."""
        if self._ttl <= 0 or ticket != self._epoch:
            return
        key = (principal.user_id, principal.session_id)
        self._entries[key] = (time.monotonic() + self._ttl, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def evict_user(self, user_id: uuid.UUID) -> None:
        self._epoch += 1
        for key in [k for k in self._entries if k[0] == user_id]:
            del self._entries[key]
