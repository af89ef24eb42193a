"""The migration runner: numbered SQL files applied once each, in order, under an advisory lock."""

from __future__ import annotations

import hashlib
from pathlib import Path

import asyncpg
import structlog

log = structlog.get_logger(__name__)

# Inside the package once built (the wheel carries them), else at the top of the checkout.
_PACKAGED = Path(__file__).resolve().parents[1] / "sql" / "migrations"
MIGRATIONS_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parents[2] / "sql" / "migrations"
# Advisory lock key for migrations: any constant shared by every worker.
_MIGRATION_LOCK = 0x6761746568  # "gateh"


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
