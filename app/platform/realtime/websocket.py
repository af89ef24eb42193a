"""uvicorn's websocket protocol (websockets-sansio) with a one-reader receive queue.

The protocol's receive queue has one reader, the app's `receive`; an
`asyncio.Queue` there costs every open socket about 3 KiB for nothing.
`gatehouse serve` passes this class to uvicorn as its `ws` protocol.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from app.platform.realtime.queues import OneReaderQueue


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = OneReaderQueue()  # type: ignore[assignment]
