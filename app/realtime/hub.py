"""The Socket.IO side of Gatehouse: connect auth, rooms, sync, and keeping
open sockets in step with what their users may still see.

Emits cross workers through python-socketio's AsyncRedisManager. Changes to
a user's rights travel on a small control channel of our own: every worker
re-checks that user's local sockets, closing them (logout, disabled account)
or taking them out of rooms they may no longer join (a removed role).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import orjson
import redis.asyncio as aioredis
import socketio
import structlog

from app import metrics
from app.config import Settings
from app.db import Database
from app.http import ApiError, dumps
from app.middleware import ClientIP
from app.realtime.engine import SocketServer
from app.realtime.manager import FanoutRedisManager
from app.realtime.outbox import Outbox
from app.realtime.rooms import RoomError, parse_room
from app.security import scopes
from app.security.permissions import Principal, may_join

if TYPE_CHECKING:
    from app.state import AppState

log = structlog.get_logger(__name__)


class OrjsonCodec:
    """The json module python-socketio uses for packets and pub/sub messages."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: Any) -> Any:
        return orjson.loads(data)


class Hub:
    def __init__(self, settings: Settings, db: Database, redis: aioredis.Redis) -> None:
        assert settings.redis_url is not None
        self._settings = settings
        self._db = db
        self._redis = redis
        self._control_channel = f"{settings.redis_prefix}:control"
        manager = FanoutRedisManager(settings.redis_url, channel=f"{settings.redis_prefix}:socketio", json=OrjsonCodec)
        self.sio = SocketServer(
            async_mode="asgi",
            client_manager=manager,
            json=OrjsonCodec,
            cors_allowed_origins=list(settings.cors_origins) or None,
            max_http_buffer_size=settings.socket_max_message_bytes,
            ping_interval=25,
            ping_timeout=20,
            logger=False,
            engineio_logger=False,
        )
        self.outbox = Outbox(
            db, self.sio, grace=settings.event_relay_grace, retention_days=settings.event_retention_days
        )
        self._client_ip = ClientIP(settings.trusted_proxies)
        self._local: dict[uuid.UUID, set[str]] = defaultdict(set)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ctx: AppState | None = None

    # Lifecycle -------------------------------------------------------------------

    def bind(self, ctx: AppState) -> None:
        """Register the handlers; they need the whole app state to authenticate."""
        self._ctx = ctx
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("join_room", self._on_join_room)
        self.sio.on("leave_room", self._on_leave_room)
        self.sio.on("sync", self._on_sync)

    def start(self) -> None:
        self.spawn(self.outbox.relay_loop(self._settings.event_relay_interval))
        self.spawn(self.outbox.mark_loop())
        self.spawn(self._control_loop())

    async def stop(self) -> None:
        for sid in [s for sids in self._local.values() for s in sids]:
            await self.sio.disconnect(sid, ignore_queue=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.outbox.flush_marks()
        await self.sio.shutdown()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run work in the background, keeping a reference so it is not collected mid-flight."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # Rights changes ------------------------------------------------------------------

    async def principal_changed(self, user_id: uuid.UUID, *, session_id: uuid.UUID | None = None) -> None:
        """Tell every worker to re-check this user's sockets (or close one session's)."""
        assert self._ctx is not None
        self._ctx.principals.evict_user(user_id)  # this worker at once; the others on the message
        message = {"user_id": str(user_id), "session_id": str(session_id) if session_id else None}
        try:
            await self._redis.publish(self._control_channel, orjson.dumps(message))
        except (aioredis.RedisError, OSError):
            log.warning("control_publish_failed", user_id=str(user_id))
            await self._recheck(user_id, session_id)

    async def _control_loop(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._control_channel)
                async for message in pubsub.listen():
                    try:
                        body = orjson.loads(message["data"])
                        session = uuid.UUID(body["session_id"]) if body.get("session_id") else None
                        await self._recheck(uuid.UUID(body["user_id"]), session)
                    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
                        log.warning("control_message_malformed")
            except (aioredis.RedisError, OSError):
                log.warning("control_channel_lost", exc_info=True)
                await asyncio.sleep(1)
            finally:
                await pubsub.aclose()

    async def _recheck(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> None:
        from app.identity.service import reload_principal

        assert self._ctx is not None
        self._ctx.principals.evict_user(user_id)
        for sid in list(self._local.get(user_id, ())):
            try:
                current: Principal = (await self.sio.get_session(sid))["principal"]
            except KeyError:
                continue
            if session_id is not None and current.session_id != session_id:
                continue
            fresh = await reload_principal(self._ctx, current)
            if fresh is None:
                log.info("socket_closed_for_rights", user_id=str(user_id))
                await self.sio.disconnect(sid, ignore_queue=True)
                continue
            await self.sio.save_session(sid, {"principal": fresh})
            for room in self.sio.rooms(sid):
                if room == sid:
                    continue
                try:
                    room_type, room_id = parse_room(room)
                except RoomError:
                    continue
                if not await self._may_access(fresh, room_type, room_id):
                    await self.sio.leave_room(sid, room)

    # Socket handlers -----------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        from app.identity.service import authenticate_socket

        assert self._ctx is not None
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token or len(token) > 8192:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")
        scope = environ.get("asgi.scope", {})
        ip = self._client_ip(scope) if scope else None
        try:
            principal = await authenticate_socket(self._ctx, token, ip)
        except ApiError:
            raise socketio.exceptions.ConnectionRefusedError("unauthorized") from None
        await self.sio.save_session(sid, {"principal": principal})
        await self.sio.enter_room(sid, f"user:{principal.user_id}")
        self._local[principal.user_id].add(sid)
        metrics.SOCKETS_OPEN.inc()

    async def _on_disconnect(self, sid: str, *args: Any) -> None:
        try:
            principal: Principal = (await self.sio.get_session(sid))["principal"]
        except KeyError:
            return
        sids = self._local.get(principal.user_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._local[principal.user_id]
        metrics.SOCKETS_OPEN.dec()

    async def _may_access(self, principal: Principal, room_type: str, room_id: uuid.UUID) -> bool:
        if room_type == "user":
            return room_id == principal.user_id or principal.is_admin
        async with self._db.connection() as conn:
            scope = await scopes.resolve(conn, room_type, room_id)
        return scope is not None and may_join(principal, scope)

    async def _principal(self, sid: str) -> Principal:
        return (await self.sio.get_session(sid))["principal"]

    async def _allowed(self, sid: str, room_type: str, room_id: uuid.UUID) -> bool:
        """Check against the socket's cached rights, re-reading them once before saying no
        (a role granted a moment ago on another worker counts at once)."""
        from app.identity.service import reload_principal

        assert self._ctx is not None
        principal = await self._principal(sid)
        if await self._may_access(principal, room_type, room_id):
            return True
        fresh = await reload_principal(self._ctx, principal)
        if fresh is None or fresh == principal:
            return False
        await self.sio.save_session(sid, {"principal": fresh})
        return await self._may_access(fresh, room_type, room_id)

    async def _on_join_room(self, sid: str, data: Any = None) -> dict[str, Any]:
        if not isinstance(data, dict):
            return {"ok": False, "error": "bad_request"}
        try:
            room_type, room_id = parse_room(f"{data.get('room_type')}:{data.get('room_id')}")
        except RoomError:
            return {"ok": False, "error": "bad_request"}
        room = f"{room_type}:{room_id}"
        if not await self._allowed(sid, room_type, room_id):
            return {"ok": False, "error": "forbidden"}
        await self.sio.enter_room(sid, room)
        return {"ok": True, "room": room}

    async def _on_leave_room(self, sid: str, data: Any = None) -> dict[str, Any]:
        if not isinstance(data, dict):
            return {"ok": False, "error": "bad_request"}
        try:
            room_type, room_id = parse_room(f"{data.get('room_type')}:{data.get('room_id')}")
        except RoomError:
            return {"ok": False, "error": "bad_request"}
        room = f"{room_type}:{room_id}"
        if room_type == "user":
            return {"ok": False, "error": "forbidden"}
        await self.sio.leave_room(sid, room)
        return {"ok": True, "room": room}

    async def _on_sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Replay a room's events after `since`, for a client coming back online."""
        if not isinstance(data, dict):
            return {"ok": False, "error": "bad_request"}
        since = data.get("since", 0)
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            return {"ok": False, "error": "bad_request"}
        try:
            room_type, room_id = parse_room(data.get("room"))
        except RoomError:
            return {"ok": False, "error": "bad_request"}
        if not await self._allowed(sid, room_type, room_id):
            return {"ok": False, "error": "forbidden"}
        room = f"{room_type}:{room_id}"
        events, more = await self.outbox.since(room, since)
        return {"ok": True, "room": room, "events": [e.payload() for e in events], "more": more}
