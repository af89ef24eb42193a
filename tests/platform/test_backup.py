"""`gatehouse backup` and `gatehouse restore` as an operator runs them: the archive holds the database and
the uploaded images, a restore into a new database finds both, a database with data is not overwritten
unless asked, and an archive that is not a backup (or is crafted to write elsewhere) restores nothing."""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import asyncpg

from app.platform.config import Settings
from tests.conftest import Services, _with_database
from tests.helpers import Api, User
from tests.media.test_uploads import png, upload


def _gatehouse(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **settings.as_env(), "LOG_LEVEL": "warning", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _new_database(services: Services) -> str:
    name = f"gatehouse_restore_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(services.admin_database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop(services: Services, name: str) -> None:
    conn = await asyncpg.connect(services.admin_database_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _fetchval(url: str, sql: str, *args: object) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def test_a_backup_restores_into_a_new_database_with_its_images(
    settings: Settings, services: Services, api: Api, admin: User, server, tmp_path: Path
) -> None:
    mall = await api.created("/v1/malls", {"name": f"Backed Up {secrets.token_hex(3)}", "timezone": "UTC"}, admin)
    image = png(4242)
    uploaded = await upload(api, admin, image)
    assert uploaded.status_code == 201, uploaded.text
    stored_name = uploaded.json()["url"].rsplit("/", 1)[1]

    archive = tmp_path / "nightly.tar.gz"
    made = _gatehouse(settings, "backup", "--output", str(archive))
    assert made.returncode == 0, made.stderr
    assert str(archive) in made.stdout and archive.is_file()
    assert not list(tmp_path.glob("*.partial")), "a finished backup leaves no partial file"

    name = await _new_database(services)
    try:
        url = _with_database(services.admin_database_url, name)
        elsewhere = replace(settings, database_url=url, data_dir=tmp_path / "restored")
        put_back = _gatehouse(elsewhere, "restore", str(archive))
        assert put_back.returncode == 0, put_back.stderr
        assert await _fetchval(url, "SELECT name FROM malls WHERE id = $1", mall["id"]) == mall["name"]
        assert await _fetchval(url, "SELECT count(*) FROM users WHERE id = $1", admin.id) == 1
        (restored_image,) = (tmp_path / "restored" / "media").rglob(stored_name)
        assert restored_image.read_bytes() == image

        again = _gatehouse(elsewhere, "restore", str(archive))
        assert again.returncode == 1 and "--replace" in again.stderr, "a database with data is not overwritten"
        await _fetchval(url, "DELETE FROM malls WHERE id = $1", mall["id"])
        replaced = _gatehouse(elsewhere, "restore", str(archive), "--replace")
        assert replaced.returncode == 0, replaced.stderr
        assert await _fetchval(url, "SELECT count(*) FROM malls WHERE id = $1", mall["id"]) == 1
    finally:
        await _drop(services, name)


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


async def test_what_is_not_a_backup_restores_nothing(settings: Settings, services: Services, tmp_path: Path) -> None:
    manifest = json.dumps({"format": 1}).encode()
    cases = {
        "missing": (tmp_path / "nowhere.tar.gz", "no such file"),
        "not an archive": (tmp_path / "notes.tar.gz", "could not be read"),
        "no dump": (_archive(tmp_path / "nodump.tar.gz", {"manifest.json": manifest}), "database.dump is missing"),
        "escape": (
            _archive(
                tmp_path / "escape.tar.gz",
                {"manifest.json": manifest, "database.dump": b"x", "media/../../evil.sh": b"echo owned"},
            ),
            "it holds",
        ),
        "other format": (
            _archive(tmp_path / "v9.tar.gz", {"manifest.json": b'{"format": 9}', "database.dump": b"x"}),
            "format is 9",
        ),
        "bad dump": (
            _archive(tmp_path / "baddump.tar.gz", {"manifest.json": manifest, "database.dump": b"not a dump"}),
            "pg_restore failed",
        ),
    }
    (tmp_path / "notes.tar.gz").write_text("just text")
    name = await _new_database(services)
    try:
        url = _with_database(services.admin_database_url, name)
        elsewhere = replace(settings, database_url=url, data_dir=tmp_path / "data")
        for case, (archive, message) in cases.items():
            done = await asyncio.to_thread(_gatehouse, elsewhere, "restore", str(archive))
            assert done.returncode == 1 and message in done.stderr, (case, done.stderr)
        assert await _fetchval(url, "SELECT to_regclass('users')") is None, "nothing was restored"
        assert not (tmp_path.parent / "evil.sh").exists() and not (tmp_path / "evil.sh").exists()
    finally:
        await _drop(services, name)
