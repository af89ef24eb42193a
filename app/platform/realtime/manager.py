"""python-socketio's Redis manager, reordered and trimmed for fan-out to large rooms.

Two changes to how an emit travels, both measured with `scripts/bench`:

- The message goes to Redis before this worker delivers it, so the other
  workers fan out at the same time as this one instead of after it.
- Local delivery hands the one encoded packet to each socket in a plain loop
  (`app.platform.realtime.engine` queues it or writes it, never waiting on a slow
  socket). The stock manager starts a task per recipient to do the same, which
  for a society room of a thousand gate tablets is a thousand tasks per event.

Emits with acknowledgement callbacks (Gatehouse sends none) keep the stock path.

And two changes to how it lives through a Redis outage (measured with `scripts/chaos`):

- A message Redis did not take raises `EmitFailed` (after this worker's own sockets have it), where the
  stock manager logs and drops it: the outbox then leaves the event unsent, and its relay sends it again.
- Listening, it retries at most every `RESUBSCRIBE_MAX` seconds (the stock backoff grows to a minute),
  and once subscribed again it hands the moment it lost Redis to `on_resubscribed`, before the first new
  message: what the other workers published meanwhile never reached it, so the hub delivers those
  events to its sockets from the outbox, in order, ahead of the live ones.

And it starts listening when the worker warms up (`warm`), before it serves, not on the first socket's connect.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import socketio
import structlog
from engineio import packet as eio_packet
from socketio import packet

from app.platform.timeline import TIMELINE

log = structlog.get_logger(__name__)

RESUBSCRIBE_FIRST, RESUBSCRIBE_MAX = 0.25, 2.0  # seconds between tries to listen again


class EmitFailed(Exception):
    """Redis did not take a message for the other workers (this worker's sockets have it)."""


class FanoutRedisManager(socketio.AsyncRedisManager):
    # Set by the hub: delivers to this worker's sockets what was published after the given moment.
    on_resubscribed: Callable[[dt.datetime], Awaitable[None]] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listening = asyncio.Event()  # subscribed to the channel (cleared while Redis is away)

    async def warm(self, connections: int) -> None:
        """Start listening now, not on the first socket's connect as python-socketio does (the rooms that
        socket joins meanwhile would miss what other workers publish, and the first requests would pay for
        the subscribing), and open `connections` connections to publish on before a burst of emits needs them."""
        if not self.server.manager_initialized:
            self.server.manager_initialized = True
            self.initialize()
        await self.listening.wait()
        await asyncio.gather(*(self.redis.ping() for _ in range(connections)))

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("ignore_queue") or callback is not None or isinstance(data, tuple):
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs)
            return
        message = {
            "method": "emit",
            "event": event,
            "data": [data],
            "binary": False,
            "namespace": namespace or "/",
            "room": to or room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": self.host_id,
        }
        started = time.perf_counter()
        published = await self._publish(message)  # None: the stock method gave up on Redis
        TIMELINE.took("redis_publish", time.perf_counter() - started)
        await self._deliver(event, data, message["namespace"], message["room"], skip_sid)
        if published is None:
            raise EmitFailed(event)

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        lost_at: dt.datetime | None = None
        wait = RESUBSCRIBE_FIRST
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                self.listening.set()
                if lost_at is not None:
                    log.info("redis_listening_again", lost_for=str(dt.datetime.now(dt.UTC) - lost_at))
                    if self.on_resubscribed is not None:
                        await self.on_resubscribed(lost_at)
                    lost_at = None
                wait = RESUBSCRIBE_FIRST
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:  # whatever the client raises, as the stock loop: keep listening
                self.listening.clear()
                lost_at = lost_at or dt.datetime.now(dt.UTC)
                log.warning("redis_listen_lost", error=type(exc).__name__, retry_in=wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, RESUBSCRIBE_MAX)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        """A message from another worker."""
        data = message["data"]
        if message.get("callback") is not None or message.get("binary") or not isinstance(data, list) or len(data) != 1:
            await super()._handle_emit(message)
            return
        await self._deliver(
            message["event"], data[0], message.get("namespace") or "/", message.get("room"), message.get("skip_sid")
        )

    async def deliver_here(self, event: str, data: Any, room: str) -> None:
        """To this worker's sockets in `room` only (what another worker's message would have brought)."""
        await self._deliver(event, data, "/", room, None)

    async def _deliver(self, event: str, data: Any, namespace: str, room: Any, skip_sid: Any) -> None:
        if namespace not in self.rooms:
            return
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, data]).encode()
        parts = encoded if isinstance(encoded, list) else [encoded]
        eio_pkts = [eio_packet.Packet(eio_packet.MESSAGE, part) for part in parts]
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid not in skip:
                for eio_pkt in eio_pkts:
                    await self.server._send_eio_packet(eio_sid, eio_pkt)
