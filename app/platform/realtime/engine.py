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
"""

from __future__ import annotations

import asyncio
from typing import Any

import engineio
import orjson
import socketio
import structlog
from engineio.async_drivers import asgi as engineio_asgi

from app.platform.realtime.queues import OneReaderQueue

log = structlog.get_logger(__name__)


_EIO_PACKET_TYPES = frozenset("0123456")  # open, close, ping, pong, message, upgrade, noop


class _WebSocket(engineio_asgi.WebSocket):
    """engineio's ASGI websocket, known to its Engine.IO socket while the socket runs on it."""

    def __init__(self, handler: Any, server: Any) -> None:
        socket = handler.__self__  # the bound AsyncSocket._websocket_handler

        async def handle(ws: _WebSocket) -> None:
            socket.websocket = ws
            try:
                await handler(ws)
            finally:
                socket.websocket = None

        super().__init__(handle, server)

    async def wait(self) -> Any:
        """The next frame; one that is not an Engine.IO packet ends the connection (engineio would log
        an error for it and read on)."""
        frame = await super().wait()
        if isinstance(frame, str) and (not frame or frame[0] not in _EIO_PACKET_TYPES):
            raise OSError("not an Engine.IO packet")
        return frame


def _takes_writes_now(ws: _WebSocket) -> bool:
    """True when uvicorn's websocket protocol (`asgi.send` is its bound `send`) is not paused for
    flow control, so a send completes without waiting; False for a server that does not say."""
    writable = getattr(getattr(ws.asgi_send, "__self__", None), "writable", None)
    return isinstance(writable, asyncio.Event) and writable.is_set()


class _EngineServer(engineio.AsyncServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async = {**self._async, "websocket": _WebSocket}

    def create_queue(self, *args: Any, **kwargs: Any) -> OneReaderQueue:
        return OneReaderQueue()

    async def send_packet(self, sid: str, pkt: Any) -> None:
        socket = self.sockets.get(sid)
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

    def __init__(self, *args: Any, connect_timeout: float = 5.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connect_timeout = connect_timeout
        self._closing: set[asyncio.Task[None]] = set()

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _EngineServer

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> None:
        await super()._handle_eio_connect(eio_sid, environ)
        # A timer, not a task: it costs a socket nothing once it has signed in.
        asyncio.get_running_loop().call_later(self._connect_timeout, self._drop_if_anonymous, eio_sid)

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
