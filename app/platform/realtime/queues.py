"""A queue for exactly one reader, for the per-socket queues of the websocket stack.

`asyncio.Queue` carries three deques and an Event (about 3 KiB) and its `get()`
is a coroutine, which `wait_for` wraps in a task on Python 3.11. Each open
socket has two such queues (uvicorn's receive queue, Engine.IO's send queue),
each with a single reader; this one keeps the same interface with a list and
at most one waiting future.
"""

from __future__ import annotations

import asyncio
from typing import Any


class OneReaderQueue:
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

    def empty(self) -> bool:
        return not self._items

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
