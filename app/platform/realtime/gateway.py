"""The Socket.IO namespace clients talk to: connect auth, rooms and `sync`.

Rights are checked against the socket's cached principal and re-read once
before a refusal, so a role granted a moment ago on another worker counts at
once; `recheck` brings a user's sockets in step after their rights change.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

import socketio
import structlog

from app.platform import metrics
from app.platform.db import UNAVAILABLE, Database
from app.platform.http import ApiError
from app.platform.middleware import ClientIP
from app.platform.ratelimit import RateLimits
from app.platform.realtime.outbox import Outbox
from app.platform.realtime.rooms import USER, RoomError, parse_room, room, user_room
from app.platform.security.permissions import EVERYTHING, Access, Principal, Rules
from app.platform.security.scopes import Scopes

log = structlog.get_logger(__name__)

MAX_TOKEN_LENGTH = 8192
MAX_EVENT_ID = 2**63 - 1  # event ids are bigint
_REFUSALS = {
    "bad_request": "The event's data is not what it takes.",
    "forbidden": "You may not use this room.",
    "rate_limited": "Too many events; wait a moment and try again.",
    "unauthorized": "The token is not valid; sign in again.",
    "token_expired": "The token has expired; refresh it and send the new one.",
    "unavailable": "A service this needs is unavailable; try again shortly.",
}


def refusal(code: str) -> dict[str, Any]:
    """A refusing acknowledgement, in the error envelope HTTP answers with."""
    return {"ok": False, "error": {"code": code, "message": _REFUSALS[code]}}


RATE_LIMITED = refusal("rate_limited")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a socket's token says it is, and until when (seconds since the epoch)."""

    principal: Principal
    expires_at: float


class Authenticator(Protocol):
    """Who a socket is, provided by the identity domain."""

    async def sign_in(self, token: str, ip: str | None) -> SignedIn:
        """The caller behind an access token or Firebase ID token; raises ApiError when it is not a live one."""
        ...

    async def reload(self, principal: Principal) -> Principal | None:
        """The same caller as it stands now; None once its session or account has ended."""
        ...


class _Bucket:
    """A token bucket for one socket's events, and how often it was refused in a row."""

    __slots__ = ("at", "refused", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at
        self.refused = 0


class Gateway(socketio.AsyncNamespace):
    def __init__(
        self,
        *,
        db: Database,
        outbox: Outbox,
        auth: Authenticator,
        rules: Rules,
        scopes: Scopes,
        client_ip: ClientIP,
        events_per_second: float,
        event_burst: int,
        limits: RateLimits,
    ) -> None:
        super().__init__("/")
        self._db = db
        self._outbox = outbox
        self._auth = auth
        self._rules = rules
        self._scopes = scopes
        self._client_ip = client_ip
        self._limits = limits
        self._local: dict[uuid.UUID, set[str]] = defaultdict(set)
        # One per user with a socket here: a rights check and the join it allows, and the re-check after a
        # rights change, never interleave (else a join checked before a revocation could land after it).
        self._rights_locks: dict[uuid.UUID, asyncio.Lock] = {}
        self._rate = events_per_second
        self._burst = event_burst
        self._buckets: dict[str, _Bucket] = {}
        self._syncing: set[str] = set()  # sockets with a `sync` being answered: one at a time each
        self._expiry: dict[str, asyncio.TimerHandle] = {}  # when each socket's token runs out
        self._expiring: set[asyncio.Task[None]] = set()

    def local_sids(self) -> list[str]:
        return [sid for sids in self._local.values() for sid in sids]

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Every handler, with a database that is away or full (see `db.UNAVAILABLE`) answered as HTTP
        answers it, 503-like: a connect is refused with `unavailable`, an event acknowledged with it."""
        try:
            return await super().trigger_event(event, *args)
        except UNAVAILABLE as exc:
            log.warning("socket_event_unavailable", socket_event=event, error=type(exc).__name__)
            if event == "connect":
                raise socketio.exceptions.ConnectionRefusedError("unavailable") from None
            return refusal("unavailable")

    async def _principal(self, sid: str) -> Principal:
        return (await self.get_session(sid))["principal"]

    def _room(self, data: Any, key: str | None = None) -> tuple[str, uuid.UUID]:
        """The room a client names, as `{room_type, room_id}` or (with `key`) one `type:id` string."""
        if not isinstance(data, dict):
            raise RoomError(data)
        name = data.get(key) if key else f"{data.get('room_type')}:{data.get('room_id')}"
        return parse_room(name, self._rules.room_types)

    # Rights --------------------------------------------------------------------------

    async def _access(self, principal: Principal, room_type: str, room_id: uuid.UUID) -> Access | None:
        if room_type == USER:
            return EVERYTHING if room_id == principal.user_id or principal.is_admin else None
        async with self._db.connection() as conn:
            scope = await self._scopes.resolve(conn, room_type, room_id)
        return None if scope is None else self._rules.access(principal, scope)

    async def _allowed(self, sid: str, room_type: str, room_id: uuid.UUID) -> Access | None:
        principal = await self._principal(sid)
        access = await self._access(principal, room_type, room_id)
        if access is not None:
            return access
        fresh = await self._auth.reload(principal)
        if fresh is None or fresh == principal:
            return None
        await self.save_session(sid, {"principal": fresh})
        return await self._access(fresh, room_type, room_id)

    def _rights_lock(self, user_id: uuid.UUID) -> asyncio.Lock:
        lock = self._rights_locks.get(user_id)
        if lock is None:
            lock = self._rights_locks[user_id] = asyncio.Lock()
        return lock

    async def recheck(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> None:
        """Close this user's sockets whose session ended; take the rest out of rooms they lost."""
        if user_id not in self._local:
            return
        async with self._rights_lock(user_id):
            await self._recheck_sockets(user_id, session_id)

    async def _recheck_sockets(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> None:
        for sid in list(self._local.get(user_id, ())):
            try:
                current = await self._principal(sid)
            except KeyError:
                continue
            if session_id is not None and current.session_id != session_id:
                continue
            fresh = await self._auth.reload(current)
            if fresh is None:
                log.info("socket_closed_for_rights", user_id=str(user_id))
                await self.server.disconnect(sid, ignore_queue=True)
                continue
            await self.save_session(sid, {"principal": fresh})
            for name in self.rooms(sid):
                if name == sid:
                    continue
                try:
                    room_type, room_id = parse_room(name, self._rules.room_types)
                except RoomError:
                    continue
                if await self._access(fresh, room_type, room_id) is None:
                    await self.leave_room(sid, name)

    # Limits --------------------------------------------------------------------------

    async def _over_limit(self, sid: str) -> bool:
        """Take a token for one client event; True (and the socket closed, if it keeps on after a whole
        burst of refusals) when there is none."""
        now = time.monotonic()
        bucket = self._buckets.get(sid)
        if bucket is None:
            bucket = self._buckets[sid] = _Bucket(float(self._burst), now)
        bucket.tokens = min(float(self._burst), bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.refused = 0
            return False
        bucket.refused += 1
        if bucket.refused > self._burst:
            log.info("socket_closed_for_flooding")
            await self.server.disconnect(sid, ignore_queue=True)
        return True

    # Token lifetime ------------------------------------------------------------------

    async def _sign_in(self, token: Any, environ: dict[str, Any]) -> SignedIn | str:
        """Who the token says the socket is, or why not: `token_expired` (refresh and come back) or
        `unauthorized` (sign in again)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            return "unauthorized"
        scope = environ.get("asgi.scope", {})
        try:
            return await self._auth.sign_in(token, self._client_ip(scope) if scope else None)
        except ApiError as exc:
            return "token_expired" if exc.code == "token_expired" else "unauthorized"

    def _expire_at(self, sid: str, expires_at: float) -> None:
        """Close the socket when its token runs out, unless an `auth` with a fresh token comes first."""
        old = self._expiry.pop(sid, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, expires_at - time.time())
        self._expiry[sid] = asyncio.get_running_loop().call_later(delay, self._expired, sid)

    def _expired(self, sid: str) -> None:
        self._expiry.pop(sid, None)
        task = asyncio.get_running_loop().create_task(self._close_expired(sid))
        self._expiring.add(task)
        task.add_done_callback(self._expiring.discard)

    async def _close_expired(self, sid: str) -> None:
        log.info("socket_closed_token_expired")
        await self.emit("token_expired", {"reason": "token_expired"}, to=sid)
        await self.server.disconnect(sid, ignore_queue=True)

    async def on_auth(self, sid: str, data: Any = None) -> dict[str, Any]:
        """A fresh token for the same user, before the last one runs out: the socket stays, with the rights
        the new token carries."""
        if await self._over_limit(sid):
            return RATE_LIMITED
        environ = self.server.get_environ(sid, self.namespace) or {}
        signed = await self._sign_in(data.get("token") if isinstance(data, dict) else None, environ)
        if isinstance(signed, str):
            return refusal(signed)
        if signed.principal.user_id != (await self._principal(sid)).user_id:
            return refusal("forbidden")
        async with self._rights_lock(signed.principal.user_id):
            await self.save_session(sid, {"principal": signed.principal})
        self._expire_at(sid, signed.expires_at)
        return {"ok": True, "expires_in": max(0, round(signed.expires_at - time.time()))}

    # Events --------------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        signed = await self._sign_in(auth.get("token") if isinstance(auth, dict) else None, environ)
        if isinstance(signed, str):
            raise socketio.exceptions.ConnectionRefusedError(signed)
        principal = signed.principal
        await self.save_session(sid, {"principal": principal})
        self._expire_at(sid, signed.expires_at)
        await self.enter_room(sid, user_room(principal.user_id))
        self._local[principal.user_id].add(sid)
        metrics.SOCKETS_OPEN.inc()

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        try:
            principal = await self._principal(sid)
        except KeyError:
            return
        self._buckets.pop(sid, None)
        self._syncing.discard(sid)
        expiry = self._expiry.pop(sid, None)
        if expiry is not None:
            expiry.cancel()
        sids = self._local.get(principal.user_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._local[principal.user_id]
                lock = self._rights_locks.get(principal.user_id)
                if lock is not None and not lock.locked():
                    del self._rights_locks[principal.user_id]
        metrics.SOCKETS_OPEN.dec()

    async def on_join_room(self, sid: str, data: Any = None) -> dict[str, Any]:
        if await self._over_limit(sid):
            return RATE_LIMITED
        try:
            room_type, room_id = self._room(data)
        except RoomError:
            return refusal("bad_request")
        user_id = (await self._principal(sid)).user_id
        async with self._rights_lock(user_id):
            if await self._allowed(sid, room_type, room_id) is None:
                return refusal("forbidden")
            name = room(room_type, room_id)
            await self.enter_room(sid, name)
        return {"ok": True, "room": name}

    async def on_leave_room(self, sid: str, data: Any = None) -> dict[str, Any]:
        if await self._over_limit(sid):
            return RATE_LIMITED
        try:
            room_type, room_id = self._room(data)
        except RoomError:
            return refusal("bad_request")
        if room_type == USER:
            return refusal("forbidden")
        name = room(room_type, room_id)
        await self.leave_room(sid, name)
        return {"ok": True, "room": name}

    async def on_sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Replay a room's events after `since`, for a client coming back online; one page at a time per
        socket (a client asks for the next page after the last one arrived). One asked while another is
        answered still takes a token, so a flood sent meanwhile closes the socket as any other flood does."""
        if await self._over_limit(sid) or sid in self._syncing:
            return RATE_LIMITED
        self._syncing.add(sid)
        try:
            if not await self._limits.allow_user("sync", (await self._principal(sid)).user_id):
                return RATE_LIMITED
            return await self._sync(sid, data)
        finally:
            self._syncing.discard(sid)

    async def _sync(self, sid: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            return refusal("bad_request")
        since = data.get("since") or 0  # absent or null: from the start of what is kept
        if not isinstance(since, int) or isinstance(since, bool) or not 0 <= since <= MAX_EVENT_ID:
            return refusal("bad_request")
        try:
            room_type, room_id = self._room(data, "room")
        except RoomError:
            return refusal("bad_request")
        access = await self._allowed(sid, room_type, room_id)
        if access is None:
            return refusal("forbidden")
        name = room(room_type, room_id)
        events, more = await self._outbox.since(name, since, not_before=access.history_from)
        return {"ok": True, "room": name, "events": [e.payload() for e in events], "more": more}
