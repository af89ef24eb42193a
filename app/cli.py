"""`gatehouse serve | migrate | create-admin | seed-demo | backup | restore`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from app.platform.config import ConfigError, Settings, load_settings

T = TypeVar("T")


class _Stopped(Exception):
    """A stop signal arrived before the workers' supervisor took over the signals."""


def _raise_stopped(signum: int, frame: Any) -> None:
    raise _Stopped(signum)


@contextmanager
def _services(settings: Settings, *, with_redis: bool = True) -> Any:
    """Settings with DATABASE_URL (and REDIS_URL) filled in, starting the embedded servers if needed."""
    if not settings.embedded:
        yield settings
        return
    from app.platform.embedded import EmbeddedServices

    embedded = EmbeddedServices(settings.data_dir)
    database_url, redis_url = embedded.start(with_redis=with_redis)
    try:
        yield settings.with_services(database_url, redis_url or "")
    finally:
        embedded.stop()


def _with_database(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from app.platform.db import Database
    from app.platform.migrations import migrate

    async def run() -> T:
        assert settings.database_url is not None
        await migrate(settings.database_url)
        db = Database(settings.database_url, min_size=1, max_size=2)
        await db.open()
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from app.platform import logs, workers
    from app.platform.migrations import migrate

    logs.configure(settings.log_level, settings.log_format)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    try:
        holder = workers.claim_port(host, port)
    except workers.PortInUse:
        print(f"gatehouse: port {port} on {host} is in use; choose another with --port or PORT", file=sys.stderr)
        return 2
    # Until the supervisor takes the signals over, a stop unwinds what has started (embedded servers).
    signal.signal(signal.SIGTERM, _raise_stopped)
    signal.signal(signal.SIGINT, _raise_stopped)
    try:
        with _services(settings) as ready:
            assert ready.database_url is not None
            asyncio.run(migrate(ready.database_url))
            # Workers build the app from the environment, so hand them the final settings.
            os.environ.update(ready.as_env())
            os.environ["MIGRATE_ON_START"] = "false"
            options = {
                "app": "app.main:create_app",
                "factory": True,
                "loop": "uvloop",
                "http": "httptools",
                "ws": "app.platform.realtime.websocket:WebSocketProtocol",
                "ws_max_size": ready.socket_max_message_bytes + 1024,
                # Events are small JSON; per-message deflate would cost each socket its own zlib
                # state (memory) and every send a compression (CPU, multiplied by fan-out).
                "ws_per_message_deflate": False,
                # Engine.IO pings every socket and closes one that does not answer; uvicorn's own
                # websocket pings on top would cost each socket two more timers and the worker a frame
                # per socket every 20 s.
                "ws_ping_interval": None,
                "lifespan": "on",
                "log_config": None,
                "access_log": False,
                "server_header": False,
                "proxy_headers": False,
                "timeout_graceful_shutdown": workers.DRAIN_SECONDS,
            }
            return workers.run(options, holder, args.workers or ready.workers)
    except _Stopped:
        return 0
    finally:
        holder.close()


def migrate_cmd(settings: Settings, args: argparse.Namespace) -> int:
    from app.platform.migrations import migrate

    with _services(settings, with_redis=False) as ready:
        assert ready.database_url is not None
        applied = asyncio.run(migrate(ready.database_url))
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


async def _announce(settings: Settings, user_id: Any) -> None:
    """Tell running workers the account's sessions ended, so none keeps them in its cache."""
    import redis.asyncio as aioredis

    from app.platform.realtime.hub import announce_principal_changed

    assert settings.redis_url is not None
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        await announce_principal_changed(client, settings.redis_prefix, user_id)
    except (aioredis.RedisError, OSError):
        print("could not reach Redis: running workers forget the old sessions within PRINCIPAL_CACHE_SECONDS")
    finally:
        await client.aclose()


def _password(args: argparse.Namespace) -> str | None:
    """From --password, GATEHOUSE_ADMIN_PASSWORD, the prompt or a line piped in; None without an answer."""
    if args.password or os.environ.get("GATEHOUSE_ADMIN_PASSWORD"):
        return args.password or os.environ["GATEHOUSE_ADMIN_PASSWORD"]
    if not sys.stdin.isatty():  # piped in: one line, no prompt
        line = sys.stdin.readline()
        return line.rstrip("\n") or None
    try:
        return getpass.getpass("Password: ")
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return None


def create_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Exit status: 0 done, 1 the account exists (see --reset-password), 2 bad input."""
    from pydantic import TypeAdapter, ValidationError

    from app.identity.schemas import Email
    from app.identity.service import AccountExists
    from app.identity.service import create_admin as make_admin
    from app.platform.security.passwords import Passwords, weakness

    try:
        email = TypeAdapter(Email).validate_python(args.email)
    except ValidationError as exc:
        print(f"not a valid e-mail address: {args.email!r} ({exc.errors()[0]['msg']})", file=sys.stderr)
        return 2
    password = _password(args)
    if password is None:
        print("no password given", file=sys.stderr)
        return 2
    if len(password) < 8:
        print("the password must have at least 8 characters", file=sys.stderr)
        return 2
    if problem := weakness(password):
        print(f"the password {problem}", file=sys.stderr)
        return 2
    passwords = Passwords.configured(settings)
    with _services(settings) as ready:
        try:
            user = _with_database(
                ready,
                lambda db: make_admin(
                    db, passwords, email=email, password=password, name=args.name, reset_password=args.reset_password
                ),
            )
            if args.reset_password:
                asyncio.run(_announce(ready, user.id))
        except AccountExists:
            print(
                f"{email} already has an account; add --reset-password to set its password and make it an admin",
                file=sys.stderr,
            )
            return 1
    print(f"admin {user.email} ({user.id})")
    return 0


def seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.main import DOMAINS, state
    from app.platform.migrations import migrate
    from app.platform.modules import DEMO_PASSWORD, DemoAccount

    async def run(ready: Settings) -> list[DemoAccount]:
        assert ready.database_url is not None
        await migrate(ready.database_url)
        ctx = state(ready, serving=False)
        await ctx.db.open()
        try:
            return [a for m in DOMAINS.modules if m.seed_demo for a in await m.seed_demo(ctx)]
        finally:
            await ctx.db.close()
            await ctx.redis.aclose()
            await ctx.cache.close()

    with _services(settings) as ready:
        accounts = asyncio.run(run(ready))
    print(f"The demo data is ready. Every password is: {DEMO_PASSWORD}\n")
    for account in accounts:
        print(f"  {account.role:<14} {account.sign_in:<34} {account.where}")
    return 0


def _backup_tools(database_url: str) -> Any:
    """pg_dump and pg_restore that can read the server at `database_url`."""
    import asyncpg

    from app.platform.backup import find_tools
    from app.platform.embedded import postgres_bin

    async def server_major() -> int:
        conn = await asyncpg.connect(database_url)
        try:
            return conn.get_server_version().major
        finally:
            await conn.close()

    return find_tools(asyncio.run(server_major()), postgres_bin())


def backup_cmd(settings: Settings, args: argparse.Namespace) -> int:
    """Exit status: 0 written, 1 it could not be (the message says why)."""
    from app.platform.backup import BackupError, backup, default_archive

    archive = Path(args.output) if args.output else default_archive(settings.data_dir / "backups")
    try:
        with _services(settings, with_redis=False) as ready:
            assert ready.database_url is not None
            manifest = backup(
                database_url=ready.database_url,
                media_dir=ready.data_dir / "media",
                archive=archive,
                tools=_backup_tools(ready.database_url),
            )
    except BackupError as exc:
        print(f"gatehouse backup: {exc}", file=sys.stderr)
        return 1
    print(f"backed up the database and {manifest['media_files']} image(s) to {archive}")
    return 0


async def _holds_data(database_url: str) -> bool:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        if await conn.fetchval("SELECT to_regclass('users')") is None:
            return False
        return bool(await conn.fetchval("SELECT EXISTS (SELECT FROM users)"))
    finally:
        await conn.close()


def restore_cmd(settings: Settings, args: argparse.Namespace) -> int:
    """Exit status: 0 restored (and migrated to this version), 1 refused or failed (the message says why)."""
    from app.platform.backup import BackupError, restore
    from app.platform.migrations import migrate

    try:
        with _services(settings, with_redis=False) as ready:
            assert ready.database_url is not None
            images = restore(
                archive=Path(args.archive),
                database_url=ready.database_url,
                media_dir=ready.data_dir / "media",
                tools=_backup_tools(ready.database_url),
                replace=args.replace,
                has_data=asyncio.run(_holds_data(ready.database_url)),
            )
            applied = asyncio.run(migrate(ready.database_url))
    except BackupError as exc:
        print(f"gatehouse restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored the database and {images} image(s) from {args.archive}; applied {len(applied)} migration(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gatehouse", description="Gatehouse real-time backend")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the server (embedded PostgreSQL and Redis unless configured)")
    p_serve.add_argument("--host")
    p_serve.add_argument("--port", type=int)
    p_serve.add_argument("--workers", type=int)
    sub.add_parser("migrate", help="apply pending migrations")
    p_admin = sub.add_parser(
        "create-admin",
        help="create an admin account; exits 0 when done, 1 if the account exists, 2 on bad input",
    )
    p_admin.add_argument("--email", required=True)
    p_admin.add_argument("--password", help="or GATEHOUSE_ADMIN_PASSWORD, or asked for")
    p_admin.add_argument("--name", default="Administrator")
    p_admin.add_argument(
        "--reset-password",
        action="store_true",
        help="for an existing account: set its password (ending its sessions) and make it an admin",
    )
    sub.add_parser("seed-demo", help="load a small demo society with a guard and residents")
    p_backup = sub.add_parser("backup", help="write the database and the uploaded images to one archive")
    p_backup.add_argument("--output", help="the archive to write; DATA_DIR/backups/gatehouse-<time>.tar.gz if left out")
    p_restore = sub.add_parser("restore", help="put a backup's database and images back, then migrate")
    p_restore.add_argument("archive")
    p_restore.add_argument("--replace", action="store_true", help="overwrite a database that holds data")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    commands = {
        "serve": serve,
        "migrate": migrate_cmd,
        "create-admin": create_admin,
        "seed-demo": seed_demo,
        "backup": backup_cmd,
        "restore": restore_cmd,
    }
    try:
        return commands[args.command](settings, args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
