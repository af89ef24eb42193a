"""`gatehouse serve` starts and stops as an operator expects: a taken port is one clear line and a
non-zero status, and a stop signal at any moment ends every worker within 10 s (#10, items 1, 2)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from app.platform import workers as workers_module
from tests.conftest import free_port
from tests.helpers import Api, children_of, connect, wait_ready

STOPPED_WITHIN = 10


def _serve(settings, port: int, *extra: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
        env={**os.environ, **settings.as_env(), "LOG_LEVEL": "warning", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stops(process: subprocess.Popen[str], *signals: signal.Signals) -> tuple[int, str]:
    """Send the signals, wait for the exit (failing past STOPPED_WITHIN s); the status and stderr."""
    workers = children_of(process.pid)
    for signum in signals:
        process.send_signal(signum)
    try:
        _, err = process.communicate(timeout=STOPPED_WITHIN)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"serve still running {STOPPED_WITHIN} s after {signals}") from None
    assert _all_gone(workers), "a worker outlived the server"
    return process.returncode, err


def _all_gone(pids: set[int]) -> bool:
    """True once none of `pids` runs (multiprocessing's resource tracker leaves a moment after its parent)."""
    for _ in range(40):
        if not [pid for pid in pids if _running(pid)]:
            return True
        time.sleep(0.05)
    return False


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_taken_port_is_one_clear_line_and_a_non_zero_status(settings, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = _serve(settings, port, "--workers", workers)
        _, err = process.communicate(timeout=5)
    assert process.returncode == 2
    assert err.strip().count("\n") == 0 and str(port) in err and "--port" in err, err
    assert "Traceback" not in err


async def test_sigterm_with_sockets_open_drains_and_stops(settings, api: Api) -> None:
    port = free_port()
    process = _serve(settings, port, "--workers", "2")
    url = f"http://127.0.0.1:{port}"
    await wait_ready(url, process)
    user = await api.signup()
    listeners = [await connect(url, user.access_token) for _ in range(4)]
    try:
        status, err = await asyncio.to_thread(_stops, process, signal.SIGTERM)
        assert status == 0, err
        assert "Traceback" not in err
        for listener in listeners:
            assert await listener.closed_by_server()
    finally:
        for listener in listeners:
            await listener.close()


def test_a_stop_during_start_up_is_prompt(settings) -> None:
    process = _serve(settings, free_port())
    time.sleep(0.5)  # the supervisor is starting its workers, which are importing and connecting
    status, err = _stops(process, signal.SIGTERM)
    assert status == 0, err


async def test_a_stop_while_redis_is_down_is_prompt(settings) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"  # bound, never listening: refused
        process = _serve(settings, free_port(), "--workers", "2", REDIS_URL=nowhere)
        await asyncio.sleep(workers_module.STARTUP_GRACE / 4)
        await asyncio.to_thread(_stops, process, signal.SIGTERM)


async def test_a_second_ctrl_c_stops_at_once(settings, api: Api) -> None:
    port = free_port()
    process = _serve(settings, port)
    url = f"http://127.0.0.1:{port}"
    await wait_ready(url, process)
    user = await api.signup()
    listener = await connect(url, user.access_token)
    try:
        await asyncio.to_thread(_stops, process, signal.SIGINT, signal.SIGINT)
    finally:
        await listener.close()


def _postmasters(pgdata: str) -> list[int]:
    """PostgreSQL server processes started on `pgdata` (its children name no folder)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _running(int(entry)):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    args = cmdline.read().split(b"\0")
            except OSError:
                continue
            if args and args[0].endswith(b"postgres") and pgdata.encode() in args:
                found.append(int(entry))
    return found


def _embedded(data_dir: str, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET")}
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "DATA_DIR": data_dir, "LOG_LEVEL": "warning", "LOG_FORMAT": "json"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_after_a_kill_9_the_next_start_takes_over_and_stops_the_embedded_servers(tmp_path) -> None:
    data_dir = str(tmp_path / "data")
    pgdata = str(tmp_path / "data" / "postgres")
    port = free_port()
    first = _embedded(data_dir, port)
    await wait_ready(f"http://127.0.0.1:{port}", first, timeout=120)
    workers = children_of(first.pid)
    first.kill()
    first.communicate()
    assert await asyncio.to_thread(_all_gone, workers), "the workers die with their supervisor"
    assert len(_postmasters(pgdata)) == 1, "a killed serve leaves its PostgreSQL running"

    second = _embedded(data_dir, port)
    await wait_ready(f"http://127.0.0.1:{port}", second, timeout=120)
    assert len(_postmasters(pgdata)) == 1, "the next start takes it over instead of starting another"
    status, err = await asyncio.to_thread(_stops, second, signal.SIGTERM)
    assert status == 0, err
    assert "XDG_RUNTIME_DIR" not in err and "Traceback" not in err
    for _ in range(100):
        if not _postmasters(pgdata):
            break
        await asyncio.sleep(0.1)
    assert _postmasters(pgdata) == [], "the last command to finish stops it"
    redis_files = {p.name for p in (tmp_path / "data" / "redis").iterdir()}
    assert {"redis.rdb", "redis.log"} <= redis_files and "redis.sock" not in redis_files
