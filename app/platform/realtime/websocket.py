"""uvicorn's websocket protocol (websockets-sansio), leaner per open socket.

The protocol's receive queue has one reader, the app's `receive`; an
`asyncio.Queue` there costs every open socket about 3 KiB for nothing. Its
`writable` flag is an `asyncio.Event`, whose deque of waiters is most of
another 0.7 KiB. And the handshake's headers (parsed, and kept by the
parser's suspended frame for the connection's life) are needed only until
the app accepts. `gatehouse serve` passes this class to uvicorn as its `ws`
protocol.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.platform.realtime.queues import OneReaderQueue


class Flag:
    """`asyncio.Event`'s `set`, `clear`, `is_set` and `wait`, with its waiters' list made only when one waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        return await waiter


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = OneReaderQueue()  # type: ignore[assignment]
        self.writable = Flag()  # type: ignore[assignment]
        self.writable.set()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self.request.headers.clear()
            self.request = self.response = None  # type: ignore[assignment]
