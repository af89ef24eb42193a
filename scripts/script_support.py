"""What the measuring scripts (bench, chaos) share: a timestamped log line, a free port, a database URL."""

from __future__ import annotations

import datetime as dt
import socket
import sys
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit


def logger(tag: str) -> Callable[[str], None]:
    """A function that prints `[tag HH:MM:SS] message` to stderr at once."""

    def log(message: str) -> None:
        print(f"[{tag} {dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    return log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url: str, name: str) -> str:
    """The same server's URL with another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
