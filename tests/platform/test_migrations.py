"""The migration runner: once each, in order, safe when workers start together,
and loud when an applied migration was edited."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from pathlib import Path

import asyncpg
import pytest

from app.platform.migrations import MIGRATIONS_DIR, MigrationError, migrate, migration_files
from tests.conftest import _with_database


@pytest.fixture
async def scratch_database(services) -> str:
    name = f"gatehouse_mig_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(services.admin_database_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    yield _with_database(services.admin_database_url, name)
    conn = await asyncpg.connect(services.admin_database_url)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def test_workers_starting_together_apply_each_migration_once(scratch_database: str) -> None:
    results = await asyncio.gather(*(migrate(scratch_database) for _ in range(4)))
    expected = [version for version, _, _ in migration_files()]
    applied = [v for result in results for v in result]
    assert sorted(applied) == expected  # every migration by exactly one worker
    conn = await asyncpg.connect(scratch_database)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [r["version"] for r in rows] == expected
    assert await migrate(scratch_database) == []


async def test_an_edited_applied_migration_stops_the_start(scratch_database: str, tmp_path: Path) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy)
    await migrate(scratch_database, copy)
    first = sorted(copy.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited afterwards\n")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(scratch_database, copy)


async def test_a_failing_migration_leaves_nothing_half_applied(scratch_database: str, tmp_path: Path) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy)
    (copy / "9999_broken.sql").write_text("CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n")
    with pytest.raises(asyncpg.UndefinedTableError):
        await migrate(scratch_database, copy)
    conn = await asyncpg.connect(scratch_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE version = '9999'") == 0
    finally:
        await conn.close()
