"""PostgreSQL access: the pool and the transaction helper."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
import structlog

from app.platform.http import dumps
from app.platform.timeline import TIMELINE

log = structlog.get_logger(__name__)

# PostgreSQL is away or full, not wrong: it refuses connections (too many, starting up, shutting down),
# a connection it ended is used, or the network to it fails. A request meeting one is told to try again
# (503); the pool replaces closed connections by itself. InternalClientError is among them because a
# connection whose backend was just terminated can raise it ("another operation is in progress") when a
# query starts between the server's goodbye and the socket closing (seen in tests/platform/
# test_database_faults.py); the error's type is logged, so a misuse of a connection would still show.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.ConnectionFailureError,
    asyncpg.InternalClientError,
    ConnectionError,
)

Hook = Callable[[asyncpg.Connection], Awaitable[None]]
AfterCommit = Callable[[], Awaitable[None]]
Invalidate = Callable[[set[str]], Awaitable[None]]


class Tx:
    """One open transaction: its connection plus work to run around the commit.

    `before_commit` hooks run inside the transaction, last; `after_commit`
    hooks run once it has committed and never for a rollback.
    """

    __slots__ = ("_after", "_before", "conn", "stale_scopes", "state")

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.state: dict[str, object] = {}
        self.stale_scopes: set[str] = set()
        self._before: list[Hook] = []
        self._after: list[AfterCommit] = []

    def stale(self, scope: str) -> None:
        """What is cached under `scope` (app/platform/cache.py) stops being served once this commits, before
        the after-commit hooks run: a client that hears of the change from an event reads it fresh."""
        self.stale_scopes.add(scope)

    def before_commit(self, hook: Hook) -> None:
        self._before.append(hook)

    def after_commit(self, hook: AfterCommit) -> None:
        self._after.append(hook)


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """asyncpg's connect, timed: a pool growing under load is a new connection per slow request."""
    started = time.perf_counter()
    conn = await asyncpg.connect(*args, **kwargs)
    TIMELINE.took("pg_connect", time.perf_counter() - started)
    return conn


# The array types Gatehouse's statements pass or return. asyncpg reads each one's definition from the catalogue
# the first time a connection meets it, one query (about 20 ms) per statement that brings new ones: asked
# for all at once as a connection opens, that is one query, and never in the middle of a request.
_ARRAY_TYPES = "SELECT NULL::uuid[], NULL::bigint[], NULL::integer[], NULL::float8[], NULL::text[], NULL::jsonb[]"


async def _init_connection(conn: asyncpg.Connection, warm_sql: str | None) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=lambda v: dumps(v).decode(), decoder=orjson.loads, schema="pg_catalog")
    await conn.prepare(_ARRAY_TYPES)
    if warm_sql is not None:
        await conn.execute(warm_sql)


class Database:
    """The asyncpg pool and the one way to run a unit of work in a transaction.

    Built with the app; the pool opens in the lifespan, on the server's loop.
    """

    def __init__(self, dsn: str, *, min_size: int, max_size: int, warm_sql: str | None = None) -> None:
        """`warm_sql` runs once on every new connection, before its first use: for statements whose first run in
        a database session is slow (a PL/pgSQL function is compiled and its queries planned then)."""
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._warm_sql = warm_sql
        self._pool: asyncpg.Pool | None = None
        # Told the scopes a committed transaction marked stale; the cache sets it when it is built.
        self.invalidate: Invalidate | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the database pool is not open")
        return self._pool

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=self._min_size,
            max_size=self._max_size,
            connect=_connect,
            init=functools.partial(_init_connection, warm_sql=self._warm_sql),
            # Connections never keep session state (no LISTEN, SET or cursors
            # outside a transaction), so the default reset query is wasted work.
            reset=_no_reset,
            # Keep what a busy moment opened: one closed after 5 idle minutes (asyncpg's default) is opened
            # again by the next burst, a connect and a catalogue read inside the request that waits for it.
            max_inactive_connection_lifetime=0,
            server_settings={"application_name": "gatehouse", "timezone": "UTC"},
        )

    async def warm(self, connections: int, within: float) -> int:
        """Open `connections` (at most the pool's maximum) now, so that load meets them ready; returns how many
        are open. One the database refuses (it is full, say) is left for later, as the pool would."""
        wanted = min(connections, self._max_size)
        held = await asyncio.gather(*(self.pool.acquire(timeout=within) for _ in range(wanted)), return_exceptions=True)
        for conn in held:
            if not isinstance(conn, BaseException):
                await self.pool.release(conn)
        return self.pool.get_size()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Run the block in one transaction; hooks run around its commit."""
        async with self.pool.acquire() as conn:
            tx = Tx(conn)
            async with conn.transaction():
                yield tx
                for hook in tx._before:
                    await hook(conn)
        hooks = list(tx._after)
        invalidate = self.invalidate
        if tx.stale_scopes and invalidate is not None:
            hooks.insert(0, lambda: invalidate(tx.stale_scopes))
        for after in hooks:
            try:
                await after()
            except Exception:
                log.exception("after_commit_failed")

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for reads that need no transaction."""
        async with self.pool.acquire() as conn:
            yield conn


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None
