"""`gatehouse backup` and `gatehouse restore`: one archive holds everything a deployment keeps, the
database (pg_dump's custom format) and the uploaded images, so it can be put back as it was or moved
to another machine.

The archive is a .tar.gz of `manifest.json`, `database.dump` and `media/`. It is written beside its
final name and renamed when whole, so a backup cut short never looks like a good one. A restore reads
only regular files under those names (a crafted archive cannot write elsewhere), refuses a database
that holds data unless told to replace it, and restores in one transaction: all of it or nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

FORMAT = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
MEDIA = "media"


class BackupError(Exception):
    """Something an operator must fix; the message says what."""


@dataclass(frozen=True, slots=True)
class Tools:
    """Where PostgreSQL's client programs are: pg_dump must be at least as new as the server."""

    pg_dump: str
    pg_restore: str
    psql: str


def _major(program: str) -> int:
    """The major version a PostgreSQL program prints (`pg_dump (PostgreSQL) 16.2`); 0 if unreadable."""
    done = subprocess.run([program, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"\) (\d+)", done.stdout)
    return int(found.group(1)) if found else 0


def find_tools(server_major: int, bundled: Path | None) -> Tools:
    """pg_dump and pg_restore at least as new as the server (an older pg_dump refuses it): those on PATH,
    else the embedded server's own (`bundled`)."""
    for folder in (None, bundled):
        if folder is not None and not folder.is_dir():
            continue
        search = str(folder) if folder is not None else None
        found = [shutil.which(name, path=search) for name in ("pg_dump", "pg_restore", "psql")]
        if all(found) and all(_major(str(program)) >= server_major for program in found):
            return Tools(*map(str, found))
    raise BackupError(
        f"no pg_dump, pg_restore and psql for PostgreSQL {server_major} or newer were found: install its client "
        f"programs (Debian: postgresql-client-{server_major})"
    )


def default_archive(folder: Path) -> Path:
    return folder / f"gatehouse-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.tar.gz"


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed programs
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")


def backup(*, database_url: str, media_dir: Path, archive: Path, tools: Tools) -> dict[str, object]:
    """Write the archive; returns its manifest."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="gatehouse-backup-") as work:
        dump = Path(work) / DUMP
        _run(
            [tools.pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", database_url],
            "pg_dump",
        )
        images = sorted(p for p in media_dir.rglob("*") if p.is_file()) if media_dir.is_dir() else []
        manifest: dict[str, object] = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "database_bytes": dump.stat().st_size,
            "media_files": len(images),
        }
        try:
            with tarfile.open(partial, "w:gz") as tar:
                body = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(body), int(dt.datetime.now(dt.UTC).timestamp())
                tar.addfile(info, io.BytesIO(body))
                tar.add(dump, arcname=DUMP)
                for image in images:
                    tar.add(image, arcname=f"{MEDIA}/{image.relative_to(media_dir).as_posix()}")
            os.replace(partial, archive)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def _members(tar: tarfile.TarFile) -> tuple[dict[str, object], tarfile.TarInfo, list[tarfile.TarInfo]]:
    """The manifest, the dump and the images of an archive; BackupError for anything that is not one."""
    by_name = {m.name: m for m in tar.getmembers()}
    manifest_member, dump_member = by_name.get(MANIFEST), by_name.get(DUMP)
    if manifest_member is None or dump_member is None or not (manifest_member.isfile() and dump_member.isfile()):
        raise BackupError("not a Gatehouse backup: manifest.json or database.dump is missing")
    reader = tar.extractfile(manifest_member)
    assert reader is not None, "a regular file"
    try:
        manifest = json.loads(reader.read())
    except ValueError:
        raise BackupError("not a Gatehouse backup: manifest.json is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"this backup's format is {manifest.get('format')!r}; this Gatehouse reads {FORMAT}")
    images = []
    for member in tar.getmembers():
        parts = Path(member.name).parts
        if member.name in (MANIFEST, DUMP) or (member.isdir() and parts == (MEDIA,)):
            continue
        if not member.isfile() or len(parts) < 2 or parts[0] != MEDIA or ".." in parts or member.name.startswith("/"):
            raise BackupError(f"not a Gatehouse backup: it holds {member.name!r}")
        images.append(member)
    return manifest, dump_member, images


# What the database held goes in the same transaction as the backup comes in (pg_restore --clean cannot
# drop the indexes of partitioned tables one by one).
_EMPTY = "DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"


def _load(tools: Tools, database_url: str, work: Path) -> None:
    """The dump as SQL after the emptying of the schema, run by psql in one transaction that stops at the
    first error: all of it or nothing."""
    script = work / "restore.sql"
    script.write_text(_EMPTY)
    with script.open("a") as out:
        done = subprocess.run(  # noqa: S603 - fixed programs
            [tools.pg_restore, "--no-owner", "--no-privileges", "--file=-", str(work / DUMP)],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    _run(
        [tools.psql, "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", f"--file={script}", database_url],
        "restoring the database",
    )


def restore(*, archive: Path, database_url: str, media_dir: Path, tools: Tools, replace: bool, has_data: bool) -> int:
    """Put the archive's database and images back; returns how many images were written. Without
    `replace`, a database that holds data (`has_data`) is refused."""
    if not archive.is_file():
        raise BackupError(f"no such file: {archive}")
    if has_data and not replace:
        raise BackupError("the database holds data already: add --replace to overwrite it with the backup")
    try:
        with tarfile.open(archive, "r:gz") as tar, tempfile.TemporaryDirectory(prefix="gatehouse-restore-") as work:
            _, dump_member, images = _members(tar)
            tar.extract(dump_member, work, filter="data")
            _load(tools, database_url, Path(work))
            media_dir.mkdir(parents=True, exist_ok=True)
            for member in images:
                member.name = member.name.removeprefix(f"{MEDIA}/")
                tar.extract(member, media_dir, filter="data")
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"the archive could not be read: {exc}") from None
    return len(images)
