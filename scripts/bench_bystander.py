"""A bystander beside the benchmark: a process that belongs to neither server and does, all through the run,
what both servers' requests wait on, writing one line of JSON per second.

Every 50 ms it sends Redis a PING and commits a one-row INSERT to PostgreSQL (a WAL flush, as every walk-in
waits for); every 10 ms it times how late its own timer fires (how long a runnable process waited for a
core); and every second it reads PostgreSQL's WAL position and, from /proc, how busy the machine was, how
much of it the hypervisor took (steal), and which processes outside the measured stack (PostgreSQL, Redis,
the Python and Node processes) took CPU. When a round's slow second is slow for the bystander too, the
machine was slow then, whichever server was being measured; and the bystander's commit time is the floor
under the p99 of any server that commits before it answers.

Usage: python scripts/bench_bystander.py DATABASE_URL REDIS_URL OUT.jsonl   (runs until SIGTERM)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import asyncpg
import orjson
import redis.asyncio as aioredis

TIMER_S, PROBE_S = 0.010, 0.050
STACK = ("postgres", "redis-server", "node", "python", "gatehouse", "npm")  # process names that are measured
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


class Machine:
    """CPU since the last reading: the machine's (busy, iowait, steal, as % of all cores) and the processes'
    outside the stack."""

    def __init__(self) -> None:
        self._total = self._cores()
        self._ticks = self._processes()

    @staticmethod
    def _cores() -> list[int]:
        with open("/proc/stat") as f:
            return [int(v) for v in f.readline().split()[1:9]]

    @staticmethod
    def _processes() -> dict[int, tuple[str, int]]:
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError):
                text = stat.read_text()
                comm, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
                found[int(stat.parent.name)] = (comm, int(fields[11]) + int(fields[12]))
        return found

    def read(self) -> dict:
        total, ticks = self._cores(), self._processes()
        delta = [now - before for now, before in zip(total, self._total, strict=True)]
        # user nice system idle iowait irq softirq steal
        whole = sum(delta) or 1
        others: Counter[str] = Counter()
        for pid, (comm, used) in ticks.items():
            before = self._ticks.get(pid, (comm, used))[1]
            if used > before and not comm.startswith(STACK):
                others[comm] += (used - before) * TICK_MS
        self._total, self._ticks = total, ticks
        return {
            "busy_pct": round(100 * (whole - delta[3] - delta[4]) / whole, 1),
            "iowait_pct": round(100 * delta[4] / whole, 1),
            "steal_pct": round(100 * delta[7] / whole, 1),
            "others_ms": round(sum(others.values())),
            "others_top": [[name, round(ms)] for name, ms in others.most_common(2)],
        }


class Second:
    def __init__(self) -> None:
        self.timer_late: list[float] = []
        self.pings: list[float] = []
        self.commits: list[float] = []


async def timer(now: list[Second]) -> None:
    while True:
        started = time.perf_counter()
        await asyncio.sleep(TIMER_S)
        now[0].timer_late.append((time.perf_counter() - started - TIMER_S) * 1000)


async def probe(now: list[Second], conn: asyncpg.Connection, redis: aioredis.Redis) -> None:
    insert = await conn.prepare("INSERT INTO bystander DEFAULT VALUES")
    while True:
        started = time.perf_counter()
        await redis.ping()
        pinged = time.perf_counter()
        await insert.fetch()
        done = time.perf_counter()
        now[0].pings.append((pinged - started) * 1000)
        now[0].commits.append((done - pinged) * 1000)
        await asyncio.sleep(max(0.0, PROBE_S - (done - started)))


async def main(database_url: str, redis_url: str, out: Path) -> None:
    conn, wal = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    await conn.execute("CREATE TABLE IF NOT EXISTS bystander (at timestamptz NOT NULL DEFAULT now())")
    redis = aioredis.from_url(redis_url)
    now, machine = [Second()], Machine()
    tasks = [asyncio.create_task(timer(now)), asyncio.create_task(probe(now, conn, redis))]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with out.open("ab") as lines:
        while not stop.is_set():
            second = int(time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), second + 1 - time.time())
            done, now[0] = now[0], Second()
            line = {
                "t": second,
                "timer_late_max_ms": round(max(done.timer_late, default=0.0), 2),
                "ping_max_ms": round(max(done.pings, default=0.0), 2),
                "commit_ms": [round(c, 2) for c in done.commits],
                "wal_bytes": int(await wal.fetchval("SELECT pg_current_wal_lsn() - '0/0'")),
                **machine.read(),
            }
            lines.write(orjson.dumps(line) + b"\n")
            lines.flush()
    for task in tasks:
        task.cancel()
    await conn.close()
    await wal.close()
    await redis.aclose()


class Bystander:
    """The bystander process for one benchmark run, and what it saw in a given window."""

    def __init__(self, database_url: str, redis_url: str, out: Path) -> None:
        self._out = out
        self._process = subprocess.Popen([sys.executable, __file__, database_url, redis_url, str(out)])

    def seconds(self, since: float, until: float) -> list[dict]:
        """The whole seconds from `since` to `until` (unix time), waiting up to 3 s for the last one's line."""
        deadline = time.monotonic() + 3
        while True:
            with contextlib.suppress(FileNotFoundError), self._out.open() as lines:
                found = [json.loads(line) for line in lines if line.endswith("\n")]
                if (found and found[-1]["t"] >= until - 1) or time.monotonic() > deadline:
                    return [s for s in found if since <= s["t"] < until]
            if time.monotonic() > deadline:
                return []
            time.sleep(0.2)

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()


def summary(seconds: list[dict]) -> dict | None:
    """A round's seconds as one row: its commits' p50, p99 and slowest, and the worst second of the rest."""
    commits = sorted(c for s in seconds for c in s["commit_ms"])
    if not commits:
        return None
    busiest = max(seconds, key=lambda s: s["others_ms"])
    return {
        "commits": len(commits),
        "commit_p50_ms": round(statistics.median(commits), 2),
        "commit_p99_ms": commits[min(len(commits) - 1, int(len(commits) * 0.99))],
        "commit_max_ms": commits[-1],
        "ping_max_ms": max(s["ping_max_ms"] for s in seconds),
        "timer_late_max_ms": max(s["timer_late_max_ms"] for s in seconds),
        "busy_max_pct": max(s["busy_pct"] for s in seconds),
        "steal_max_pct": max(s["steal_pct"] for s in seconds),
        "others_max_ms": busiest["others_ms"],
        "others_top": busiest["others_top"],
        "wal_bytes_per_s": round((seconds[-1]["wal_bytes"] - seconds[0]["wal_bytes"]) / max(1, len(seconds) - 1)),
    }


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
