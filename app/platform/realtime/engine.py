"""python-socketio's server on an Engine.IO server that sends to each socket more cheaply.

Engine.IO gives every socket an `asyncio.Queue` that only the socket's writer
task reads, through `wait_for(queue.get(), timeout)`. On Python 3.11 each
such wait starts a task, one per packet sent and one always pending per idle
socket, and each Queue carries three deques and an Event: measured with 9,000
idle sockets, queues and their waits were about a tenth of the memory per
socket, and in a fan-out to 1,000 sockets the extra task per packet was one
of the largest costs. `OneReaderQueue` does the same job for its one reader
with a list and at most one waiting future.

A packet for a websocket whose writer is idle is also written at once
instead of going through the queue and waking the writer task: nothing can
be queued or in flight ahead of it then, so order holds, and a fan-out to a
thousand sockets costs a thousand writes rather than a thousand task wake-ups.
Only when uvicorn's transport takes writes without waiting, though: a fan-out
sends to its sockets one after another, and one slow phone with a full send
buffer must not hold up the rest of the room, so its packets queue instead.

What may queue is bounded: a socket whose client stops reading is cut off once
`send_buffer` bytes wait for it, rather than growing the worker without limit.
Connections are admitted per client address (IPv6 by /64): at most
`per_address` Engine.IO sessions open on this worker, signed in or not, and
new ones at `per_second` with bursts of `burst`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import engineio
import orjson
import socketio
import structlog
from engineio import async_socket, exceptions, packet
from engineio.async_drivers import asgi as engineio_asgi

from app.platform.ratelimit import client_key
from app.platform.realtime.queues import OneReaderQueue
from app.platform.realtime.websocket import Flag

log = structlog.get_logger(__name__)


_EIO_PACKET_TYPES = frozenset("0123456")  # open, close, ping, pong, message, upgrade, noop


class _WebSocket(engineio_asgi.WebSocket):
    """engineio's ASGI websocket, keeping of its handshake only what a socket needs later."""

    async def __call__(self, environ: dict[str, Any]) -> str:
        self.asgi_receive = environ["asgi.receive"]
        self.asgi_send = environ["asgi.send"]
        await self.asgi_send({"type": "websocket.accept"})
        _forget_the_handshake(environ)
        await self.handler(self)
        return ""

    async def wait(self) -> Any:
        """The next frame; one that is not an Engine.IO packet ends the connection (engineio would log
        an error for it and read on)."""
        frame = await super().wait()
        if isinstance(frame, str) and (not frame or frame[0] not in _EIO_PACKET_TYPES):
            raise OSError("not an Engine.IO packet")
        return frame


def _forget_the_handshake(environ: dict[str, Any]) -> None:
    """Empty the request's environ, which the connection's coroutines and python-socketio hold for as long
    as the socket is open (about 8 KiB: every header twice, the scope, and a class engineio defines per
    request), down to the scope's client address and `X-Forwarded-For`: all a signed-in socket reads again
    (the client's address, for an `auth`)."""
    scope = environ.get("asgi.scope")
    environ.clear()
    if scope is not None:
        scope["headers"] = [(name, value) for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"]
        environ["asgi.scope"] = scope


class _Socket(async_socket.AsyncSocket):
    """An Engine.IO socket that costs less while idle: its reader awaits the next frame itself, with no timer,
    where engineio starts a task per frame and waits for it with `wait_for` (a client that stops answering
    pings is cut off by engineio's sweep instead); the writer waits on its one-reader queue without a timer
    either; and the next ping is a timer, not a task asleep for `ping_interval`. `SocketServer` makes every
    new socket one of these."""

    def schedule_ping(self) -> None:
        if self.last_ping:
            self.last_ping = None
            asyncio.get_running_loop().call_later(self.server.ping_interval, self._ping)

    def _ping(self) -> None:
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            self.queue.put_nowait(packet.Packet(packet.PING))

    async def _websocket_handler(self, ws: Any) -> Any:
        self.websocket = ws
        try:
            if self.connected:  # a polling session upgrading: engineio's probe and handover
                return await super()._websocket_handler(ws)
            self.connected = self.upgraded = True
            writer = asyncio.get_running_loop().create_task(self._write(ws))
            try:
                await self._read(ws)
            finally:
                self.queue.put_nowait(None)  # the writer's signal to stop
                await writer
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
        finally:
            self.websocket = None

    async def _read(self, ws: Any) -> None:
        limit = self.server.max_http_buffer_size
        while True:
            try:
                frame = await ws.wait()
            except OSError:
                return
            if frame is None or len(frame) > limit:
                return
            try:
                await self.receive(packet.Packet(encoded_packet=frame))
            except exceptions.UnknownPacketError:
                continue
            except exceptions.SocketIsClosedError:
                return
            except Exception:  # engineio's own loop reads on after a handler's failure, and so does this one
                log.warning("socket_receive_failed", exc_info=True)

    async def check_ping_timeout(self) -> bool:
        """engineio's sweep over its sockets asks this; a client that let a ping go unanswered also loses its
        connection, which ends the reader (in place of a timeout on every read)."""
        alive: bool = await super().check_ping_timeout()
        if not alive:
            transport = _transport(self.websocket)
            if transport is not None and not transport.is_closing():
                transport.abort()
        return alive

    async def _write(self, ws: Any) -> None:
        queue = self.queue
        while True:
            pkt = await queue.get()
            queue.task_done()
            if pkt is None:
                break
            try:
                await ws.send(pkt.encode())
            except (OSError, RuntimeError):
                break  # the socket is going away (uvicorn refuses sends after close)
            if pkt.packet_type == packet.CLOSE:
                break  # the server closed the socket: the connection goes too, whether the client leaves or not
        await ws.close()


def _takes_writes_now(ws: _WebSocket) -> bool:
    """True when uvicorn's websocket protocol (`asgi.send` is its bound `send`) is not paused for
    flow control, so a send completes without waiting; False for a server that does not say."""
    writable = getattr(getattr(ws.asgi_send, "__self__", None), "writable", None)
    return isinstance(writable, asyncio.Event | Flag) and writable.is_set()


def _transport(ws: _WebSocket | None) -> asyncio.Transport | None:
    """uvicorn's transport under a websocket (None for a server that does not say)."""
    return getattr(getattr(ws.asgi_send, "__self__", None), "transport", None) if ws else None


def _size(pkt: Any) -> int:
    data = getattr(pkt, "data", None)
    return len(data) if isinstance(data, str | bytes) else 16


class _SendQueue(OneReaderQueue):
    """A socket's send queue that knows how much waits in it (characters of encoded packets)."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def put_nowait(self, item: Any) -> None:
        if not self.reader_waiting():
            self.size += _size(item)
        super().put_nowait(item)

    def get(self) -> asyncio.Future[Any]:
        if self._items:
            self.size -= _size(self._items[0])
        return super().get()

    def get_nowait(self) -> Any:
        item = super().get_nowait()
        self.size -= _size(item)
        return item


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """See the module's docstring (the `SOCKET_*` settings)."""

    per_address: int
    per_second: float
    burst: int
    send_buffer: int


class _Admission:
    """Which client addresses may open another Engine.IO session on this worker."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self._limits = limits
        self._open: dict[str, int] = {}
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when)

    def admit(self, address: str) -> bool:
        now = time.monotonic()
        if len(self._buckets) > 4096:
            self._forget_full(now)
        tokens, at = self._buckets.get(address, (float(self._limits.burst), now))
        tokens = min(float(self._limits.burst), tokens + (now - at) * self._limits.per_second)
        if tokens < 1 or self._open.get(address, 0) >= self._limits.per_address:
            self._buckets[address] = (tokens, now)
            return False
        self._buckets[address] = (tokens - 1, now)
        self._open[address] = self._open.get(address, 0) + 1
        return True

    def release(self, address: str) -> None:
        left = self._open.get(address, 0) - 1
        if left > 0:
            self._open[address] = left
        else:
            self._open.pop(address, None)

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold nothing a fresh one would not."""
        refill = self._limits.burst / self._limits.per_second if self._limits.per_second > 0 else float("inf")
        for address, (_, at) in list(self._buckets.items()):
            if now - at >= refill:
                del self._buckets[address]


class _EngineServer(engineio.AsyncServer):
    send_buffer = 4 * 1024 * 1024  # SocketServer sets it from its limits

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async = {**self._async, "websocket": _WebSocket}
        self._cutting: set[asyncio.Task[None]] = set()

    def create_queue(self, *args: Any, **kwargs: Any) -> _SendQueue:
        return _SendQueue()

    def _cut_off(self, sid: str, socket: Any) -> None:
        """Close a socket whose client stopped reading: abort its TCP connection (a websocket's pending
        write never finishes otherwise), which ends the socket the usual way; once."""
        ws = getattr(socket, "websocket", None)
        transport = _transport(ws)
        if transport is not None:
            if not transport.is_closing():
                log.info("socket_closed_slow_reader", queued=socket.queue.size)
                transport.abort()
            return
        if socket.closing or any(t.get_name() == sid for t in self._cutting):
            return
        log.info("socket_closed_slow_reader", queued=socket.queue.size)
        task = asyncio.get_running_loop().create_task(self.disconnect(sid), name=sid)
        self._cutting.add(task)
        task.add_done_callback(self._cutting.discard)

    async def send_packet(self, sid: str, pkt: Any) -> None:
        socket = self.sockets.get(sid)
        if socket is not None and socket.queue.size > self.send_buffer:
            self._cut_off(sid, socket)
            return
        ws = getattr(socket, "websocket", None)
        if (
            ws is None
            or socket.closing
            or socket.upgrading
            or not socket.queue.reader_waiting()
            or not _takes_writes_now(ws)
        ):
            await super().send_packet(sid, pkt)
            return
        try:
            await ws.send(pkt.encode())
        except (OSError, RuntimeError):
            return  # the socket is going away (uvicorn refuses sends after close); its reader closes it


# What a client packet may not be: undecodable or too deeply nested JSON, a packet type a client never
# sends, or an event that is not `[name: str, ...]`. Such a client is not speaking Socket.IO.
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, RecursionError, orjson.JSONDecodeError)


class MalformedPacket(ValueError):
    """A client packet that is not a Socket.IO packet Gatehouse takes."""


class SocketServer(socketio.AsyncServer):
    """`socketio.AsyncServer` whose sockets send through `OneReaderQueue`, or straight to an idle websocket,
    which closes a connection that sends a malformed packet instead of logging a traceback for it, and one
    that has not signed in (the Socket.IO CONNECT with a token) within `connect_timeout` seconds."""

    def __init__(
        self,
        *args: Any,
        client_ip: Callable[[dict[str, Any]], str],
        connect_timeout: float,
        limits: ConnectionLimits,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._client_ip = client_ip
        self._connect_timeout = connect_timeout
        self._admission = _Admission(limits)
        self._address_of: dict[str, str] = {}
        self.eio.send_buffer = limits.send_buffer
        self._closing: set[asyncio.Task[None]] = set()

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _EngineServer

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        scope = environ.get("asgi.scope")
        address = client_key(self._client_ip(scope)) if scope else "unknown"
        if not self._admission.admit(address):
            log.debug("socket_refused_for_address")
            return "too_many_connections"  # engineio answers 401 with this message and keeps nothing
        self._address_of[eio_sid] = address
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None:
            socket.__class__ = _Socket  # before engineio schedules its first ping
        await super()._handle_eio_connect(eio_sid, environ)
        # A timer, not a task: it costs a socket nothing once it has signed in.
        asyncio.get_running_loop().call_later(self._connect_timeout, self._drop_if_anonymous, eio_sid)
        return None

    async def _handle_eio_disconnect(self, eio_sid: str, *args: Any) -> None:
        address = self._address_of.pop(eio_sid, None)
        if address is not None:
            self._admission.release(address)
        await super()._handle_eio_disconnect(eio_sid, *args)

    def _drop_if_anonymous(self, eio_sid: str) -> None:
        if eio_sid in self.eio.sockets and self.manager.sid_from_eio_sid(eio_sid, "/") is None:
            log.debug("socket_closed_unauthenticated")
            task = asyncio.get_running_loop().create_task(self.eio.disconnect(eio_sid))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            if not isinstance(data, str):
                raise MalformedPacket("binary packets are not taken")
            await super()._handle_eio_message(eio_sid, data)
        except _MALFORMED as exc:
            log.debug("socket_packet_refused", error=type(exc).__name__)
            await self.eio.disconnect(eio_sid)

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: Any, data: Any) -> None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise MalformedPacket("an event is [name, ...args]")
        await super()._handle_event(eio_sid, namespace, id, data)
