"""How a worker makes its Redis clients: every connection of all of them shares one driver description.

Without one, redis-py (7.4 on) looks its own version up in the installed packages' metadata for each new
connection: about a millisecond of CPU, paid on the request path whenever a burst of emits grows the pool
(measured with scripts/bench: the shared description halves what opening a connection costs).
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.driver_info import DriverInfo

OPTIONS: dict[str, Any] = {"driver_info": DriverInfo()}


def client(url: str, **options: Any) -> aioredis.Redis:
    """A client of `url`; `options` are redis-py's (timeouts, retries) for clients that need their own."""
    return aioredis.from_url(url, **OPTIONS, **options)
