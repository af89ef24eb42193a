"""python-socketio's Redis manager, reordered and trimmed for fan-out to large rooms.

Three changes to how an emit travels, all measured with `scripts/bench`:

- The message goes to Redis before this worker delivers it, so the other
  workers fan out at the same time as this one instead of after it.
- Local delivery hands the one encoded packet to each socket in a plain loop
  (`app.platform.realtime.engine` queues it or writes it, never waiting on a slow
  socket). The stock manager starts a task per recipient to do the same, which
  for a society room of a thousand gate tablets is a thousand tasks per event.
- A change's events travel as one Redis message (`emit_batch`) of packets encoded
  once: the stock manager publishes each event and every worker encodes it again.

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
        await self.emit_batch([(event, data, to or room)], namespace=namespace or "/", skip_sid=skip_sid)

    async def emit_batch(
        self, events: list[tuple[str, Any, Any]], *, namespace: str = "/", skip_sid: Any = None
    ) -> None:
        """Events (name, data, room), in order, in one Redis message: a change that tells a flat and its
        society is one publish and one message for each other worker to read, not two. Each event is encoded
        once, here; the other workers send the packets on as they are."""
        packets = [(room, self._encode(namespace, event, data)) for event, data, room in events]
        message = {
            "method": "emit",
            "packets": packets,
            "namespace": namespace,
            "skip_sid": skip_sid,
            "host_id": self.host_id,
        }
        started = time.perf_counter()
        published = await self._publish(message)  # None: the stock method gave up on Redis
        TIMELINE.took("redis_publish", time.perf_counter() - started)
        for room, encoded in packets:
            await self._send(namespace, room, encoded, skip_sid)
        if published is None:
            raise EmitFailed(", ".join(event for event, _, _ in events))

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
        """Another worker's events; a message in the stock shape (with an acknowledgement callback, or from a
        worker of an earlier release during a rolling restart) takes the stock path."""
        packets = message.get("packets")
        if not isinstance(packets, list):
            await super()._handle_emit(message)
            return
        namespace = message.get("namespace") or "/"
        for room, encoded in packets:
            await self._send(namespace, room, encoded, message.get("skip_sid"))

    async def deliver_here(self, event: str, data: Any, room: str) -> None:
        """To this worker's sockets in `room` only (what another worker's message would have brought)."""
        await self._send("/", room, self._encode("/", event, data), None)

    def _encode(self, namespace: str, event: str, data: Any) -> str:
        """The Socket.IO EVENT packet's text, as `socketio.packet.Packet` writes it for JSON data. Events carry
        JSON, never bytes, so without its walk through `data` looking for them (or a server, for a script)."""
        head = f"{packet.EVENT}" if namespace == "/" else f"{packet.EVENT}{namespace},"
        return head + self.json.dumps([event, data])

    async def _send(self, namespace: str, room: Any, encoded: str, skip_sid: Any) -> None:
        if namespace not in self.rooms:
            return
        eio_pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid not in skip:
                await self.server._send_eio_packet(eio_sid, eio_pkt)
