"""PostgreSQL access: the pool, the transaction helper and the migration runner."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import orjson
import structlog

from app.http import dumps

if TYPE_CHECKING:
    from app.realtime.outbox import Outbox

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "sql" / "migrations"
# Advisory lock key for migrations: any constant shared by every worker.
_MIGRATION_LOCK = 0x6761746568  # "gateh"

Hook = Callable[[asyncpg.Connection], Awaitable[None]]
AfterCommit = Callable[[], Awaitable[None]]


class Tx:
    """One open transaction: its connection plus work to run around the commit.

    `before_commit` hooks run inside the transaction, last; `after_commit`
    hooks run once it has committed and never for a rollback.
    """

    __slots__ = ("_after", "_before", "conn", "outbox", "state")

    def __init__(self, conn: asyncpg.Connection, outbox: Outbox | None) -> None:
        self.conn = conn
        self.outbox = outbox
        self.state: dict[str, object] = {}
        self._before: list[Hook] = []
        self._after: list[AfterCommit] = []

    def before_commit(self, hook: Hook) -> None:
        self._before.append(hook)

    def after_commit(self, hook: AfterCommit) -> None:
        self._after.append(hook)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=lambda v: dumps(v).decode(), decoder=orjson.loads, schema="pg_catalog")


class Database:
    """The asyncpg pool and the one way to run a unit of work in a transaction.

    Built with the app; the pool opens in the lifespan, on the server's loop.
    """

    def __init__(self, dsn: str, *, min_size: int, max_size: int) -> None:
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        # Set by the realtime layer; publish() needs it.
        self.outbox: Outbox | None = None

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
            init=_init_connection,
            # Connections never keep session state (no LISTEN, SET or cursors
            # outside a transaction), so the default reset query is wasted work.
            reset=_no_reset,
            server_settings={"application_name": "gatehouse", "timezone": "UTC"},
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Run the block in one transaction; hooks run around its commit."""
        async with self.pool.acquire() as conn:
            tx = Tx(conn, self.outbox)
            async with conn.transaction():
                yield tx
                for hook in tx._before:
                    await hook(conn)
        for after in tx._after:
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


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[tuple[str, str, str]]:
    """(version, name, sql) for each migration file, in order."""
    found = []
    for path in sorted(directory.glob("*.sql")):
        version, _, name = path.stem.partition("_")
        if not version.isdigit() or not name:
            raise RuntimeError(f"migration {path.name} must be named NNNN_name.sql")
        found.append((version, name, path.read_text()))
    return found


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    """An applied migration no longer matches its file."""


async def migrate(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations once each, in order, under an advisory lock.

    Returns the versions applied now. A migration whose file changed after it
    was applied stops the start with MigrationError.
    """
    conn = await asyncpg.connect(dsn)
    applied_now: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       version text PRIMARY KEY,
                       name text NOT NULL,
                       checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
            applied = {r["version"]: r["checksum"] for r in rows}
            for version, name, sql in migration_files(directory):
                digest = checksum(sql)
                if version in applied:
                    if applied[version] != digest:
                        raise MigrationError(
                            f"migration {version}_{name} was changed after it was applied; add a new migration instead"
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        version,
                        name,
                        digest,
                    )
                applied_now.append(version)
                log.info("migration_applied", version=version, name=name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    finally:
        await conn.close()
    return applied_now
