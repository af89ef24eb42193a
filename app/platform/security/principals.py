"""Per-worker cache of who a token's session belongs to and what it may do.

Saves the database round trip every authenticated request would otherwise
make. Rights changes evict a user's entries on every worker at once (through
the realtime hub's control channel, and locally before that); the TTL bounds
how stale an entry could get if such a message were lost.

Entries put at the same moment (a gate's guards signing in, a building's phones reconnecting) would also
expire at the same moment, and every request arriving before the first re-read finished would read the
database again: so each entry's lifetime is spread over the last fifth of the TTL by its key, and callers
that miss the same entry at once share one read (`load`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from app.platform.security.permissions import Principal
from app.platform.timeline import TIMELINE

Key = tuple[uuid.UUID, uuid.UUID | None]
Read = Callable[[], Awaitable[Principal | None]]
SPREAD = 0.2  # the share of the TTL over which entries' expiries are spread


class PrincipalCache:
    def __init__(self, *, ttl: float, max_entries: int = 50_000) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._entries: OrderedDict[Key, tuple[float, Principal]] = OrderedDict()
        # Counts evictions, so a read from the database that began before one cannot store what it read
        # after it (the rights it holds may be the ones just revoked).
        self._epoch = 0
        self._reading: dict[Key, asyncio.Future[Principal | None]] = {}

    async def load(self, user_id: uuid.UUID, session_id: uuid.UUID | None, read: Read) -> Principal | None:
        """The cached principal, else what `read` finds (None: no such live session), kept for the next
        caller. Callers that miss the same entry while it is being read wait for that read."""
        cached = self.get(user_id, session_id)
        if cached is not None:
            return cached
        key = (user_id, session_id)
        pending = self._reading.get(key)
        if pending is None:
            pending = self._reading[key] = asyncio.ensure_future(self._read(read, self.ticket()))
            pending.add_done_callback(lambda done: self._forget_read(key, done))
        return await asyncio.shield(pending)  # one caller giving up does not end the others' read

    async def _read(self, read: Read, ticket: int) -> Principal | None:
        principal = await read()
        if principal is not None:
            self.put(principal, ticket)
        return principal

    def _forget_read(self, key: Key, done: asyncio.Future[Principal | None]) -> None:
        if self._reading.get(key) is done:
            del self._reading[key]

    def get(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> Principal | None:
        found = self._entries.get((user_id, session_id))
        if found is None:
            TIMELINE.count("principal_miss")
            return None
        expires, principal = found
        if expires < time.monotonic():
            del self._entries[(user_id, session_id)]
            TIMELINE.count("principal_expired")
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
        spread = 1 - SPREAD * (hash(key) % 1000) / 1000
        self._entries[key] = (time.monotonic() + self._ttl * spread, principal)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def evict_user(self, user_id: uuid.UUID) -> None:
        """Forget the user's entries, and the reads of them under way: a caller arriving now reads anew."""
        self._epoch += 1
        for key in [k for k in self._entries if k[0] == user_id]:
            del self._entries[key]
        for key in [k for k in self._reading if k[0] == user_id]:
            del self._reading[key]
