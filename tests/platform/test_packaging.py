"""A built wheel is enough to run Gatehouse: it carries the migrations that live in `sql/` in the
repository, and `gatehouse migrate` from it sets up a new database (#10, items 8, 9)."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import asyncpg

from app.platform.migrations import migration_files
from tests.conftest import _with_database

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kw)


def test_the_wheel_carries_the_migrations_and_migrates_a_new_database(tmp_path, services, settings) -> None:
    built = _run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("gatehouse-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"app/sql/migrations/{path.name}" for path in (ROOT / "sql" / "migrations").glob("*.sql")}
    assert expected and expected <= names
    console = {f"app/{p.relative_to(ROOT / 'app')}" for p in (ROOT / "app" / "console" / "static").rglob("*.*")}
    assert "app/console/static/vendor/socket.io.esm.min.js" in console and console <= names, "the console ships"
    assert not [n for n in names if n.startswith(("tests/", "scripts/"))]
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Requires-Dist: pgserver" in metadata and "extra == 'embedded'" in metadata.split("pgserver", 1)[1][:60]

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", venv).returncode == 0
    python = venv / "bin" / "python"
    installed = _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel)
    assert installed.returncode == 0, installed.stderr
    # The wheel's dependencies are this environment's: the new one reads them through a path entry (a
    # plain path, so the editable checkout this environment also points at is not among them).
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    where = _run(python, "-c", "import app; print(app.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(venv)), where

    name = f"gatehouse_wheel_{secrets.token_hex(4)}"
    asyncio.run(_database(services.admin_database_url, f'CREATE DATABASE "{name}"'))
    try:
        env = {**os.environ, **settings.as_env(), "DATABASE_URL": _with_database(services.admin_database_url, name)}
        migrated = _run(venv / "bin" / "gatehouse", "migrate", env=env, cwd=tmp_path)
        assert migrated.returncode == 0, migrated.stderr
        assert f"applied {len(migration_files())} migration(s)" in migrated.stdout
    finally:
        asyncio.run(_database(services.admin_database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _database(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
