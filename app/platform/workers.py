"""uvicorn workers on one port, each listening on its own SO_REUSEPORT socket, under a
supervisor process that also owns the embedded services.

uvicorn's `--workers` shares one listening socket between the processes, and
the kernel wakes the worker that waited last: under long-lived keep-alive and
websocket connections one worker ends up holding nearly all of them while the
others idle (seen in `scripts/bench`: 81 s of CPU against 5 s over one run).
With a socket per worker the kernel spreads connections across the workers by
their address hash, much as Node's cluster does with its round robin.

The supervisor restarts a worker that dies after it has served a while; one
that dies while starting stops the whole server, since its siblings would only
fail the same way. Even a single worker runs under it, so stopping is always
prompt: on SIGTERM or Ctrl-C each worker drains in-flight requests and open
sockets for up to `DRAIN_SECONDS`, and one still running after `STOP_SECONDS`
(stuck in start-up, say, waiting for a database) is killed; a second Ctrl-C
kills them at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

import structlog

log = structlog.get_logger(__name__)

PR_SET_PDEATHSIG = 1  # prctl(2)
STARTUP_GRACE = 10.0  # a worker that dies sooner than this after starting failed to start
DRAIN_SECONDS = 5  # uvicorn's graceful shutdown: how long in-flight requests and sockets get
STOP_SECONDS = 8.0  # after a stop signal, workers still running are killed


class PortInUse(Exception):
    """The port is taken by another process."""


def _listen_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def claim_port(host: str, port: int) -> socket.socket:
    """The supervisor's hold on `host:port`, taken before anything else starts; PortInUse if another
    process has it. Bound, not listening: it fixes the port when 0 was asked for and keeps it ours while
    a worker restarts, and the kernel only hands connections to the workers' listening sockets."""
    probe = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((host, port))  # no SO_REUSEPORT: fails even against another server that set it
    except OSError as exc:
        raise PortInUse(f"{host}:{port}") from exc
    finally:
        probe.close()
    return _listen_socket(host, port)


def _ignore_stop_signals() -> None:
    """uvicorn re-raises the signal that stopped it once it has shut down; with these
    handlers in place that re-raise ends the process with status 0 after a clean stop."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)


def _stop_with_parent(parent: int) -> None:
    """Have the kernel send this worker SIGTERM when its supervisor dies, even by SIGKILL, so no worker
    lingers holding the port and the database (Linux; elsewhere the supervisor's own stop has to do)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before the request above took hold
        os.kill(os.getpid(), signal.SIGTERM)


def run_one(options: dict[str, Any], host: str, port: int, *, reuse_port: bool = False) -> None:
    """One uvicorn server in this process; `options` are uvicorn.Config's."""
    import uvicorn

    _ignore_stop_signals()
    config = uvicorn.Config(host=host, port=port, **options)
    server = uvicorn.Server(config)
    if reuse_port:
        server.run(sockets=[_listen_socket(host, port)])
    else:
        server.run()


def _worker(options: dict[str, Any], host: str, port: int, parent: int) -> None:
    _stop_with_parent(parent)
    run_one(options, host, port, reuse_port=True)


def run(options: dict[str, Any], holder: socket.socket, workers: int) -> int:
    """Supervise `workers` processes serving on the port `holder` claimed; returns the exit status."""
    host, port = holder.getsockname()[:2]
    spawn = multiprocessing.get_context("spawn")
    signals = 0

    def start() -> tuple[BaseProcess, float]:
        process = spawn.Process(target=_worker, args=(options, host, port, os.getpid()))
        process.start()
        return process, time.monotonic()

    def stop(*_: Any) -> None:
        nonlocal signals
        signals += 1

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    procs = [start() for _ in range(workers)]
    log.info("serving", url=f"http://{host}:{port}", workers=workers)
    status = 0
    try:
        while not signals:
            time.sleep(0.2)
            for i, (process, started) in enumerate(procs):
                if process.is_alive() or signals:
                    continue
                log.error("worker_exited", pid=process.pid, exitcode=process.exitcode)
                if time.monotonic() - started < STARTUP_GRACE:
                    status = 1
                    stop()
                    break
                procs[i] = start()
    finally:
        for process, _ in procs:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        while signals < 2 and time.monotonic() < deadline and any(p.is_alive() for p, _ in procs):
            time.sleep(0.05)
        for process, _ in procs:
            if process.is_alive():
                log.warning("worker_killed", pid=process.pid, after_seconds=STOP_SECONDS if signals < 2 else 0)
                process.kill()
            process.join()
        holder.close()
    return status
