"""python-socketio's server on an Engine.IO server with a leaner per-socket send queue.

Engine.IO gives every socket an `asyncio.Queue` that only the socket's writer
task reads, through `wait_for(queue.get(), timeout)`. On Python 3.11 each
such wait starts a task, one per packet sent and one always pending per idle
socket, and each Queue carries three deques and an Event: measured with 9,000
idle sockets, queues and their waits were about a seventh of the memory per
socket, and in a fan-out to 1,000 sockets the extra task per packet was one
of the largest costs. `SendQueue` keeps the same interface for its one
consumer with a list and at most one waiting future.
"""

from __future__ import annotations

import asyncio
from typing import Any

import engineio
import socketio


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

    def task_done(self) -> None:
        self._unfinished -= 1
        if self._unfinished <= 0 and self._joined is not None and not self._joined.done():
            self._joined.set_result(None)

    async def join(self) -> None:
        if self._unfinished > 0:
            if self._joined is None or self._joined.done():
                self._joined = asyncio.get_running_loop().create_future()
            await self._joined


class _EngineServer(engineio.AsyncServer):
    def create_queue(self, *args: Any, **kwargs: Any) -> SendQueue:
        return SendQueue()


class SocketServer(socketio.AsyncServer):
    """`socketio.AsyncServer` whose sockets send through `SendQueue`."""

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _EngineServer
