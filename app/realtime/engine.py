"""python-socketio's server on an Engine.IO server with a leaner per-socket send queue.

Engine.IO gives every socket an `asyncio.Queue` that only the socket's writer
task reads, through `wait_for(queue.get(), timeout)`. On Python 3.11 each
such wait starts a task, one per packet sent and one always pending per idle
socket, and each Queue carries three deques and an Event: measured with 9,000
idle sockets, queues and their waits were about a seventh of the memory per
socket, and in a fan-out to 1,000 sockets the extra task per packet was one
of the largest costs. `SendQueue` keeps the same interface for its one
consumer with a list and at most one waiting future.

A packet for a websocket whose writer is idle is also written at once
instead of going through the queue and waking the writer task: nothing can
be queued or in flight ahead of it then, so order holds, and a fan-out to a
thousand sockets costs a thousand writes rather than a thousand task wake-ups.
"""

from __future__ import annotations

import asyncio
from typing import Any

import engineio
import socketio
from engineio.async_drivers import asgi as engineio_asgi


class SendQueue:
    """A FIFO for one consumer: `get()` returns a future, so awaiting it with a timeout starts no task."""

    __slots__ = ("_items", "_joined", "_unfinished", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[Any] | None = None
        self._unfinished = 0
        self._joined: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._unfinished += 1
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(item)  # the consumer is waiting, so nothing is queued ahead of it
        else:
            self._items.append(item)

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get(self) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._items:
            future.set_result(self._items.pop(0))
        else:
            self._waiter = future
        return future

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    def reader_waiting(self) -> bool:
        """True while the reader waits on an empty queue, so nothing is queued or being sent."""
        return self._waiter is not None and not self._waiter.done()

    def task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished <= 0 and self._joined is not None and not self._joined.done():
            self._joined.set_result(None)

    async def join(self) -> None:
        if self._unfinished > 0:
            if self._joined is None or self._joined.done():
                self._joined = asyncio.get_running_loop().create_future()
            await self._joined


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


class _EngineServer(engineio.AsyncServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async = {**self._async, "websocket": _WebSocket}

    def create_queue(self, *args: Any, **kwargs: Any) -> SendQueue:
        return SendQueue()

    async def send_packet(self, sid: str, pkt: Any) -> None:
        socket = self.sockets.get(sid)
        ws = getattr(socket, "websocket", None)
        if ws is None or socket.closing or socket.upgrading or not socket.queue.reader_waiting():
            await super().send_packet(sid, pkt)
            return
        try:
            await ws.send(pkt.encode())
        except (OSError, RuntimeError):
            return  # the socket is going away (uvicorn refuses sends after close); its reader closes it


class SocketServer(socketio.AsyncServer):
    """`socketio.AsyncServer` whose sockets send through `SendQueue`."""

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _EngineServer
