"""The Socket.IO side of Gatehouse: the server, its outbox, and keeping open
sockets in step with what their users may still see.

Emits cross workers through python-socketio's AsyncRedisManager. Changes to
a user's rights travel on a small control channel of our own: every worker
re-checks that user's local sockets, closing them (logout, disabled account)
or taking them out of rooms they may no longer join (a removed role).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
import redis.asyncio as aioredis
import structlog

from app.platform import redis_client
from app.platform.config import Settings
from app.platform.db import Database
from app.platform.http import dumps
from app.platform.middleware import ClientIP
from app.platform.ratelimit import RateLimits
from app.platform.realtime.engine import ConnectionLimits, SocketServer
from app.platform.realtime.gateway import Authenticator, Gateway
from app.platform.realtime.manager import FanoutRedisManager
from app.platform.realtime.outbox import Outbox
from app.platform.security.permissions import Rules
from app.platform.security.scopes import Scopes

log = structlog.get_logger(__name__)


class OrjsonCodec:
    """The json module python-socketio uses for packets and pub/sub messages."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: Any) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # orjson refuses integers past 64 bits; the standard parser takes them, so a handler can answer
            # `bad_request` for the value. Whatever else orjson refused fails here too.
            return json.loads(data)


STOP_WAIT = 2.0  # seconds `stop` waits for background tasks to unwind


def control_channel(prefix: str) -> str:
    return f"{prefix}:control"


async def announce_principal_changed(
    redis: aioredis.Redis, prefix: str, user_id: uuid.UUID, session_id: uuid.UUID | None = None
) -> None:
    """Tell every worker that this user's rights changed (or one session ended): they drop what they
    cached and re-check the user's sockets. Also for commands run beside the server."""
    message = {"user_id": str(user_id), "session_id": str(session_id) if session_id else None}
    await redis.publish(control_channel(prefix), orjson.dumps(message))


class Hub:
    def __init__(
        self, settings: Settings, db: Database, redis: aioredis.Redis, *, on_rights_change: Callable[[uuid.UUID], None]
    ) -> None:
        """`on_rights_change` runs for every user whose rights changed (on any worker), before their
        sockets are re-checked: the principal cache's eviction."""
        assert settings.redis_url is not None
        self._settings = settings
        self._db = db
        self._redis = redis
        self._on_rights_change = on_rights_change
        self._control_channel = control_channel(settings.redis_prefix)
        self._client_ip = ClientIP(settings.trusted_proxies)
        manager = FanoutRedisManager(
            settings.redis_url,
            channel=f"{settings.redis_prefix}:socketio",
            json=OrjsonCodec,
            redis_options=dict(redis_client.OPTIONS),
        )
        self._manager = manager
        self.sio = SocketServer(
            async_mode="asgi",
            client_manager=manager,
            json=OrjsonCodec,
            cors_allowed_origins=list(settings.cors_origins) or None,
            max_http_buffer_size=settings.socket_max_message_bytes,
            ping_interval=25,
            ping_timeout=20,
            connect_timeout=settings.socket_connect_timeout,
            client_ip=self._client_ip,
            limits=ConnectionLimits(
                per_address=settings.socket_connections_per_address,
                per_second=settings.socket_connects_per_second,
                burst=settings.socket_connect_burst,
                send_buffer=settings.socket_send_buffer_bytes,
            ),
            logger=False,
            engineio_logger=False,
        )
        self.outbox = Outbox(
            db, manager, grace=settings.event_relay_grace, retention_days=settings.event_retention_days
        )
        manager.on_resubscribed = self._fill_gap
        self._gateway: Gateway | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # Lifecycle -------------------------------------------------------------------

    def bind(self, *, auth: Authenticator, rules: Rules, scopes: Scopes, limits: RateLimits) -> None:
        """Register the namespace; it needs the identity domain to authenticate sockets."""
        self._gateway = Gateway(
            db=self._db,
            outbox=self.outbox,
            auth=auth,
            rules=rules,
            scopes=scopes,
            client_ip=self._client_ip,
            events_per_second=self._settings.socket_events_per_second,
            event_burst=self._settings.socket_event_burst,
            limits=limits,
        )
        self.sio.register_namespace(self._gateway)

    def start(self) -> None:
        self.spawn(self.outbox.relay_loop(self._settings.event_relay_interval))
        self.spawn(self.outbox.mark_loop())
        self.spawn(self._control_loop())

    async def warm(self, connections: int) -> None:
        """Listen to the other workers now, and open `connections` connections to publish on."""
        await self._manager.warm(connections)

    async def stop(self) -> None:
        if self._gateway is not None:
            for sid in self._gateway.local_sids():
                await self.sio.disconnect(sid, ignore_queue=True)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            # A task cancelled inside a Redis call that cannot reach Redis may take long to finish
            # unwinding; stopping does not wait for it past this.
            _, stuck = await asyncio.wait(set(self._tasks), timeout=STOP_WAIT)
            if stuck:
                log.warning("hub_tasks_not_stopped", count=len(stuck))
        await self.outbox.flush_marks()
        await self.sio.shutdown()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run in-process realtime work in the background, keeping a reference so it is not collected
        mid-flight. Work that must survive a crash or be retried is a job instead (`app.platform.jobs`)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _fill_gap(self, lost_at: dt.datetime) -> None:
        """Back on Redis after losing it: deliver to this worker's sockets what every worker wrote since, as
        the other workers' messages would have (clients drop an event id they have seen)."""
        try:
            missed = await self.outbox.written_since(lost_at)
        except Exception:  # the database is away too: sockets catch up by `sync` when they reconnect
            log.warning("event_gap_unfilled", since=lost_at.isoformat(), exc_info=True)
            return
        for event in missed:
            await self._manager.deliver_here(event.type, event.payload(), event.room)
        log.info("event_gap_filled", since=lost_at.isoformat(), count=len(missed))

    # Rights changes ------------------------------------------------------------------

    async def principal_changed(self, user_id: uuid.UUID, *, session_id: uuid.UUID | None = None) -> None:
        """Tell every worker to re-check this user's sockets (or close one session's)."""
        self._on_rights_change(user_id)  # this worker at once; the others on the message
        try:
            await announce_principal_changed(self._redis, self._settings.redis_prefix, user_id, session_id)
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
            except Exception:  # Redis away, or a re-check that met a cut connection: listen again
                log.warning("control_channel_lost", exc_info=True)
                await asyncio.sleep(1)
            finally:
                await pubsub.aclose()

    async def _recheck(self, user_id: uuid.UUID, session_id: uuid.UUID | None) -> None:
        self._on_rights_change(user_id)
        if self._gateway is not None:
            await self._gateway.recheck(user_id, session_id)
