"""What this worker did, second by second, for the last few minutes: garbage-collector pauses, event-loop lag,
the pool's size, new PostgreSQL connections, Redis publishes, waits for rooms' writers before an emit, relay
sweeps, jobs and principal-cache misses.

A latency tail is a few bad seconds; totals since start hide which. `scripts/bench` reads every worker's
seconds from /metrics/timeline and plots them under the clients' per-second p50 and p99, so a slow second
shows what the worker was doing then. GC pauses and loop lag also go to /metrics as histograms.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.platform import metrics
from app.platform.http import BadRequest, NotFound, json

SECONDS_KEPT = 900
PROBE_EVERY = 0.05  # seconds between event-loop lag probes: a stall longer than this shows in its second

Gauges = dict[str, Callable[[], float | int]]


class Timeline:
    """Counters and durations added as they happen, closed into one sample per wall-clock second."""

    def __init__(self) -> None:
        self._samples: deque[dict[str, Any]] = deque(maxlen=SECONDS_KEPT)
        self._open: dict[str, float] = {}
        self._second = int(time.time())
        self._gauges: Gauges = {}
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None
        self._apps = 0  # apps running in this process: one in a worker, several in the tests' process

    def count(self, name: str, n: int = 1) -> None:
        self._open[name] = self._open.get(name, 0) + n

    def took(self, name: str, seconds: float) -> None:
        """One `name` that took `seconds`: its second gets the count, the total and the longest (ms)."""
        ms = seconds * 1000
        self.count(name)
        self._open[f"{name}_ms"] = self._open.get(f"{name}_ms", 0.0) + ms
        self._open[f"{name}_max_ms"] = max(self._open.get(f"{name}_max_ms", 0.0), ms)

    def samples(self, since: float = 0.0) -> dict[str, Any]:
        return {"pid": os.getpid(), "samples": [s for s in self._samples if s["t"] >= since]}

    # Running -------------------------------------------------------------------------

    def start(self, gauges: Gauges) -> None:
        """Probe the loop and time the collector until the last app that started it stops; `gauges` (the
        latest app's) are read at the end of each second."""
        self._gauges = gauges
        self._apps += 1
        if self._task is None:
            gc.callbacks.append(self._on_gc)
            self._task = asyncio.get_running_loop().create_task(self._probe())

    async def stop(self) -> None:
        self._apps -= 1
        if self._apps > 0 or self._task is None:
            return
        gc.callbacks.remove(self._on_gc)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _probe(self) -> None:
        """Sleep a short while again and again: waking late is time the loop spent on something else."""
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(PROBE_EVERY)
            lag = max(0.0, time.perf_counter() - asked - PROBE_EVERY)
            metrics.LOOP_LAG.observe(lag)
            self._open["loop_lag_max_ms"] = max(self._open.get("loop_lag_max_ms", 0.0), lag * 1000)
            if int(time.time()) != self._second:
                self._close()

    def _close(self) -> None:
        sample: dict[str, Any] = {"t": self._second, **{k: round(v, 2) for k, v in self._open.items()}}
        for name, read in self._gauges.items():
            try:
                sample[name] = read()
            except RuntimeError:  # the pool is closed: a stopping worker
                continue
        self._samples.append(sample)
        self._open = {}
        self._second = int(time.time())

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        pause = time.perf_counter() - self._gc_started
        metrics.GC_PAUSE.labels(str(info["generation"])).observe(pause)
        self.took(f"gc{info['generation']}", pause)


TIMELINE = Timeline()


async def endpoint(request: Request) -> Response:
    """This worker's seconds from `?since=` (seconds since the epoch) on, with its pid: each worker keeps its
    own, so a reader asks until it has heard from every worker. The same readers as /metrics."""
    if not metrics.allowed(request):
        raise NotFound("No such route.")
    try:
        since = float(request.query_params.get("since", "0"))
    except ValueError:
        raise BadRequest("`since` is seconds since the epoch.") from None
    return json(TIMELINE.samples(since))
