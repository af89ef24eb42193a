"""The web server's line per websocket handshake is sampled; its other lines are kept."""

from __future__ import annotations

import logging

from app.platform.logs import SampleHandshakes


def _record(msg: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("uvicorn.error", level, __file__, 1, msg, ("127.0.0.1:5000", "/socket.io/"), None)


def test_one_handshake_line_in_a_hundred_is_kept_and_nothing_else_is_dropped() -> None:
    sample = SampleHandshakes(every=100)
    kept = sum(sample.filter(_record('%s - "WebSocket %s" [accepted]')) for _ in range(1000))
    assert kept == 10
    assert sample.filter(_record("Started server process [%d]"))
    assert sample.filter(_record('%s - "WebSocket %s" 500', logging.ERROR))
