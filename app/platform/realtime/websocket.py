"""uvicorn's websocket protocol (websockets-sansio), leaner per open socket.

The protocol's receive queue has one reader, the app's `receive`; an
`asyncio.Queue` there costs every open socket about 3 KiB for nothing. And
the handshake's request and response (every header, parsed) are needed only
until the app accepts. `gatehouse serve` passes this class to uvicorn as its
`ws` protocol.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.platform.realtime.queues import OneReaderQueue


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = OneReaderQueue()  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self.request = self.response = None  # type: ignore[assignment]
