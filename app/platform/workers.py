"""Several uvicorn workers on one port, each listening on its own SO_REUSEPORT socket.

uvicorn's `--workers` shares one listening socket between the processes, and
the kernel wakes the worker that waited last: under long-lived keep-alive and
websocket connections one worker ends up holding nearly all of them while the
others idle (seen in `scripts/bench`: 81 s of CPU against 5 s over one run).
With a socket per worker the kernel spreads connections across the workers by
their address hash, much as Node's cluster does with its round robin.

The supervisor restarts a worker that dies after it has served a while; one
that dies while starting stops the whole server, since its siblings would only
fail the same way.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

import structlog

log = structlog.get_logger(__name__)

STARTUP_GRACE = 10.0  # a worker that dies sooner than this after starting failed to start


def _listen_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _ignore_stop_signals() -> None:
    """uvicorn re-raises the signal that stopped it once it has shut down; with these
    handlers in place that re-raise ends the process with status 0 after a clean stop."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)


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


def run_many(options: dict[str, Any], host: str, port: int, workers: int, *, stop_timeout: float) -> int:
    """Supervise `workers` processes sharing `host:port`; returns the exit status."""
    # Bound (not listening) for as long as the server runs: it fixes the port when 0 was asked
    # for, and keeps it ours while a worker restarts. The kernel only hands connections to
    # listening sockets, so it never takes any.
    holder = _listen_socket(host, port)
    port = holder.getsockname()[1]
    spawn = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> tuple[BaseProcess, float]:
        process = spawn.Process(target=run_one, args=(options, host, port), kwargs={"reuse_port": True})
        process.start()
        return process, time.monotonic()

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    procs = [start() for _ in range(workers)]
    status = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(procs):
                if process.is_alive() or stopping:
                    continue
                log.error("worker_exited", pid=process.pid, exitcode=process.exitcode)
                if time.monotonic() - started < STARTUP_GRACE:
                    status, stopping = 1, True
                    break
                procs[i] = start()
    finally:
        for process, _ in procs:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + stop_timeout
        for process, _ in procs:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        holder.close()
    return status
