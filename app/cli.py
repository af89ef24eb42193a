"""`gatehouse serve | migrate | create-admin | seed-demo`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
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


def create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from app.identity.service import create_admin as make_admin

    password = args.password or os.environ.get("GATEHOUSE_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    from app.platform.security.passwords import weakness

    if len(password) < 8:
        print("the password must have at least 8 characters", file=sys.stderr)
        return 2
    if problem := weakness(password):
        print(f"the password {problem}", file=sys.stderr)
        return 2
    with _services(settings, with_redis=False) as ready:
        user = _with_database(ready, lambda db: make_admin(db, email=args.email, password=password, name=args.name))
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

    with _services(settings) as ready:
        accounts = asyncio.run(run(ready))
    print(f"The demo data is ready. Every password is: {DEMO_PASSWORD}\n")
    for account in accounts:
        print(f"  {account.role:<14} {account.email:<34} {account.where}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gatehouse", description="Gatehouse real-time backend")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the server (embedded PostgreSQL and Redis unless configured)")
    p_serve.add_argument("--host")
    p_serve.add_argument("--port", type=int)
    p_serve.add_argument("--workers", type=int)
    sub.add_parser("migrate", help="apply pending migrations")
    p_admin = sub.add_parser("create-admin", help="create an admin account (or promote an existing one)")
    p_admin.add_argument("--email", required=True)
    p_admin.add_argument("--password", help="or GATEHOUSE_ADMIN_PASSWORD, or asked for")
    p_admin.add_argument("--name", default="Administrator")
    sub.add_parser("seed-demo", help="load a small demo society with a guard and residents")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    commands = {"serve": serve, "migrate": migrate_cmd, "create-admin": create_admin, "seed-demo": seed_demo}
    return commands[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
