"""Gatehouse against the Node.js peer (../shared/peer-bench), side by side in one run.

Starts both servers the way production runs them (Gatehouse: `gatehouse serve`,
uvicorn with uvloop, httptools and websockets-sansio, N workers, the Redis
manager; the peer: Node cluster, N workers, the Socket.IO Redis adapter) on the
same PostgreSQL and Redis, provisions each through its own path, runs the
peer-bench load scripts (official socket.io-client) against them alternately,
and writes bench-results/<time>.json and a Markdown table with the ratios.

With `--baseline REF` it also installs that commit of Gatehouse beside this
checkout (under .bench/) and measures it in the same run, in turn with the
other two: the visitor flow, the rate sweep and the round trip, with a second
table of this checkout against it.

Each rate runs in rounds, the servers alternating which goes first (`--repeat N`,
3 by default; the headline rate, 200/s, at least `--rounds`, 9): a single
10-second run's p99 on a shared 2-core machine can move by several times. The
report gives each round's p99 per server and their ratio, the ratio's median and
spread, and each server's first round against its later ones: both servers are
restarted just before the headline rate's rounds, so the first round is the
first after a start. The load is our own `bench_js/flow_timeline.js`, which also
times each second; with what every Gatehouse worker did in that second (its
/metrics/timeline: GC pauses, loop lag, pool, new connections, Redis publishes,
sweeps) it goes to bench-results/<time>-timeline.json and, one per rate,
<time>-timeline-<rate>.png (matplotlib, the `bench` extra).

Usage: scripts/bench [--quick] [--rates 50,200,500] [--seconds 10] [--workers 2] [--baseline REF] [--repeat N]

`scripts/bench --catalogue` runs only the catalogue-browse scenario (Gatehouse alone, no peer needed):
see scripts/bench_catalogue.py.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import bench_plot
from bench_bystander import Bystander
from bench_bystander import summary as bystander_summary
from script_support import free_port, logger, with_database

ROOT = Path(__file__).resolve().parent.parent
PEER_SRC = Path(os.environ.get("PEER_BENCH_DIR", ROOT.parent / "shared" / "peer-bench"))
WORK = ROOT / ".bench"
PEER = WORK / "peer-bench"
RESULTS = ROOT / "bench-results"
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "bench-admin-password"
P99_TARGET_MS = 50.0
FANOUT_ROUNDS = "9"  # the median of 9 rounds; single rounds swing by 2x on a shared machine
# Each server's fan-out runs this many times, the order flipping each time, and the figure is the median of
# all their events: in one pass per server, always in the same order, the two medians moved by a tenth.
FANOUT_PASSES = 3


log = logger("bench")


def psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The processes holding sockets: the server itself or its worker children (not the resource tracker
        multiprocessing starts beside Gatehouse's workers)."""
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        children = [int(p) for p in out if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()]
        return children or [self.process.pid]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Build:
    """A Gatehouse to measure: this checkout, or a baseline commit installed under .bench/."""

    name: str
    root: Path
    db: str = field(default_factory=lambda: f"gh_bench_{secrets.token_hex(3)}")

    @property
    def command(self) -> str:
        return str(self.root / ".venv" / "bin" / "gatehouse")


def prepare_baseline(ref: str) -> Build:
    """That commit's tree (git archive) with its own venv, made once per commit."""
    sha = subprocess.run(["git", "rev-parse", ref], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    build = Build("baseline", WORK / f"baseline-{sha[:10]}")
    if not Path(build.command).exists():
        log(f"installing the baseline {sha[:10]} under {build.root}")
        shutil.rmtree(build.root, ignore_errors=True)
        build.root.mkdir(parents=True)
        tree = subprocess.run(["git", "archive", sha], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(build.root)], input=tree, check=True)
        subprocess.run([sys.executable, "-m", "venv", str(build.root / ".venv")], check=True)
        pip = [str(build.root / ".venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "-e", str(build.root)], check=True)
    return build


@dataclass
class Run:
    database_url: str
    redis_url: str
    workers: int
    builds: dict[str, Build] = field(default_factory=lambda: {"gatehouse": Build("gatehouse", ROOT)})
    peer_db: str = field(default_factory=lambda: f"peer_bench_{secrets.token_hex(3)}")
    bystander_db: str = field(default_factory=lambda: f"bystander_bench_{secrets.token_hex(3)}")
    # Per worker. With a baseline, two Gatehouse builds and the peer hold pools at once, and 2 x 2 x 20
    # plus the peer's pass PostgreSQL's default max_connections (100); both builds then get 12.
    pool_max: int = 20
    prefix: str = field(default_factory=lambda: f"ghbench{secrets.token_hex(3)}")
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    servers: list[Server] = field(default_factory=list)

    def gatehouse_env(self, build: Build) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": with_database(self.database_url, build.db),
            "REDIS_URL": self.redis_url,
            "REDIS_PREFIX": f"{self.prefix}{build.name}",
            "JWT_SECRET": self.jwt_secret,
            "RATE_LIMIT_GENERAL": "100000000/minute",
            "RATE_LIMIT_AUTH": "100000000/minute",
            "RATE_LIMIT_SYNCS": "100000000/minute",
            # Every benchmark client connects from this machine's one address.
            "SOCKET_CONNECTIONS_PER_ADDRESS": "1000000",
            "SOCKET_CONNECTS_PER_SECOND": "1000000",
            "SOCKET_CONNECT_BURST": "1000000",
            "LOG_LEVEL": "warning",
            "LOG_FORMAT": "json",
            "ACCESS_TOKEN_TTL": "7200",
            "DB_POOL_MAX": str(self.pool_max),
            # The peer has no escalation; without this, thousands of unanswered benchmark requests
            # would escalate into the society room mid-run and be measured as fan-out load.
            "VISITOR_ESCALATE_AFTER": "86400",
        }

    def peer_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": with_database(self.database_url, self.peer_db),
            "REDIS_URL": self.redis_url,
            "JWT_SECRET": self.jwt_secret,
        }

    def start_gatehouse(self, workers: int, build: str = "gatehouse") -> Server:
        chosen = self.builds[build]
        port = free_port()
        command = [chosen.command, "serve", "--port", str(port), "--workers", str(workers)]
        server = self._start(f"{build} x{workers}", port, command, chosen.root, self.gatehouse_env(chosen), "/readyz")
        if build == "gatehouse":
            worker_seconds(server, workers, time.time())  # every worker serving, not only the first one up
        return server

    def start_peer(self, workers: int) -> Server:
        port = free_port()
        env = {**self.peer_env(), "WORKERS": str(workers), "PORT": str(port)}
        return self._start(f"peer x{workers}", port, ["node", "peer/server.js"], PEER, env, "/healthz")

    def _start(self, name: str, port: int, command: list[str], cwd: Path, env: dict[str, str], health: str) -> Server:
        """Start a server and wait until `health` answers; its output goes to .bench/<name>-<port>.log."""
        log_path = WORK / f"{name.split()[0]}-{port}.log"
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Server(name, f"http://127.0.0.1:{port}", process, log_path)
        self.servers.append(server)
        wait_http(server.url + health)
        return server

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()


def prepare_peer() -> None:
    WORK.mkdir(exist_ok=True)
    lock = PEER_SRC / "package-lock.json"
    stamp = PEER / ".lock-copy"
    if not (PEER / "node_modules").exists() or not stamp.exists() or stamp.read_bytes() != lock.read_bytes():
        log("installing the peer's dependencies (npm ci)")
        if PEER.exists():
            shutil.rmtree(PEER)
        shutil.copytree(PEER_SRC, PEER)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=PEER, check=True)
        shutil.copy(lock, stamp)
    for script in (ROOT / "scripts" / "bench_js").glob("*.js"):
        shutil.copy(script, PEER / script.name)


def node_json(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 300, mark: Callable[[], None] = lambda: None
) -> dict:
    """Run a load script and return its last line's JSON. `mark` is called when the script prints `clock`
    (its measured part starts) and again the moment its result line arrives, before it closes its sockets."""
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            ["node", *args], cwd=PEER, env=env or os.environ.copy(), stdout=subprocess.PIPE, stderr=errors, text=True
        )
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            lines = []
            for line in process.stdout:
                if line.strip() == "clock" or line.startswith("{"):
                    mark()
                lines.append(line)
            process.wait()
        finally:
            watchdog.cancel()
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"node {' '.join(args)} failed ({process.returncode}): {errors.read()[-2000:]}")
    return json.loads(lines[-1])


def cpu_ticks(server: Server) -> Counter[str]:
    """CPU ticks used so far by the server's processes (its session), PostgreSQL's and Redis's, from /proc.
    Only one server runs load at a time, so the database's and Redis's share in a round is that server's."""
    used: Counter[str] = Counter()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            comm, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
            # utime, stime, and cutime, cstime: children reaped meanwhile (pooled connections closed) still count
            ticks = sum(int(f) for f in fields[11:15])
            if int(fields[3]) == server.process.pid:
                used["server"] += ticks
            elif comm == "postgres":
                used["postgres"] += ticks
            elif comm.startswith("redis-server"):
                used["redis"] += ticks
    return used


def cpu_per_request(before: Counter[str], after: Counter[str], requests: int, client_ms: float) -> dict[str, float]:
    """Milliseconds of CPU per request in each part, and in all of them."""
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    parts = {part: (after[part] - before[part]) * tick_ms for part in ("server", "postgres", "redis")}
    parts["client"] = client_ms
    return {**{k: round(v / requests, 3) for k, v in parts.items()}, "all": round(sum(parts.values()) / requests, 3)}


def provision_peer(run: Run, flats: int, guards: int) -> Path:
    peer_fixture = WORK / "peer.json"
    env = {**run.peer_env(), "FLATS": str(flats), "GUARDS": str(guards)}
    peer_fixture.write_text(
        subprocess.run(
            ["node", "provision_peer.js"], cwd=PEER, env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    return peer_fixture


def provision_gatehouse(run: Run, build: str, gatehouse: Server, flats: int, guards: int) -> Path:
    gh_fixture = WORK / f"{build}.json"
    chosen = run.builds[build]
    subprocess.run(
        [chosen.command, "create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD],
        env=run.gatehouse_env(chosen),
        check=True,
        capture_output=True,
    )
    env = {
        **os.environ,
        "FLATS": str(flats),
        "GUARDS": str(guards),
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    gh_fixture.write_text(
        subprocess.run(
            ["node", "provision_gatehouse.js", gatehouse.url],
            cwd=PEER,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    return gh_fixture


def fanout(fixture: Path, url: str, sockets: int) -> dict:
    return node_json(["fanout.js", str(fixture), url, str(sockets), FANOUT_ROUNDS])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no RSS for {pid}")


def idle_sockets(server: Server, fixture: Path, count: int) -> dict:
    """RSS per authenticated, room-joined socket, read from the single worker's /proc."""
    (pid,) = server.worker_pids()
    time.sleep(1)
    before = rss_kib(pid)
    Path("/tmp/idle_ready").unlink(missing_ok=True)  # idle_sockets.js writes it once all sockets are joined
    holder = subprocess.Popen(
        ["node", "idle_sockets.js", str(fixture), server.url, str(count)],
        cwd=PEER,
        env={**os.environ, "HOLD_MS": "8000"},
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not Path("/tmp/idle_ready").exists() and holder.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)
    after = rss_kib(pid)
    out, _ = holder.communicate(timeout=60)
    Path("/tmp/idle_ready").unlink(missing_ok=True)
    held = json.loads(out.strip().splitlines()[-1])["held"]
    return {
        "held": held,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_socket": round((after - before) / max(1, held), 2),
    }


def worker_seconds(server: Server, workers: int, since: float, until: float | None = None) -> dict[str, list]:
    """Each worker's /metrics/timeline seconds from `since` to `until`, by pid. Every worker listens on its own
    socket and the kernel picks one per connection, so ask on fresh connections until all have answered."""
    heard: dict[str, list] = {}
    deadline = time.monotonic() + 60
    while len(heard) < workers and time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{server.url}/metrics/timeline?since={since}") as r:
            body = json.loads(r.read())
            heard[str(body["pid"])] = [s for s in body["samples"] if until is None or s["t"] <= until]
            continue
        time.sleep(0.2)
    if len(heard) < workers:
        raise RuntimeError(f"only {len(heard)} of {workers} workers answered /metrics/timeline")
    return heard


def fan_out(run: Run, targets: dict[str, tuple[Server, Path]], fixtures: dict[str, Path], sockets: int) -> dict:
    """One event to `sockets` sockets in a room: on the running two-worker servers, then on one worker each,
    each server `FANOUT_PASSES` times in turn."""
    fan = {}

    def in_turn(servers: dict[str, Server], where: str) -> None:
        passes: dict[str, list[dict]] = {"peer": [], "gatehouse": []}
        for i in range(FANOUT_PASSES):
            for which in ("peer", "gatehouse") if i % 2 == 0 else ("gatehouse", "peer"):
                passes[which].append(fanout(fixtures[which], servers[which].url, sockets))
        for which, found in passes.items():
            fan[f"{which}_{where}"] = summary = pooled(found)
            log(f"{which:9} fan-out to {sockets}, {where}: {summary['median_last_ms']} ms")

    in_turn({which: server for which, (server, _) in targets.items()}, "two_workers")
    run.stop_all()
    in_turn({"gatehouse": run.start_gatehouse(1), "peer": run.start_peer(1)}, "one_worker")
    return fan


def pooled(passes: list[dict]) -> dict:
    """One server's fan-out passes as one: the median and spread of every counted event, the client's CPU
    over them, and each pass as it came."""
    counted = [r for found in passes for r in found["rounds_detail"] if not r["warmup"]]
    lasts = [r["last_ms"] for r in counted if r["last_ms"] is not None]
    cpu = [r["client_cpu_ms"] for r in counted if r["last_ms"] is not None]
    return {
        "sockets": passes[0]["sockets"],
        "events": len(counted),
        "complete_events": len(lasts),
        "median_last_ms": statistics.median(lasts) if lasts else None,
        "min_last_ms": min(lasts, default=None),
        "max_last_ms": max(lasts, default=None),
        "median_client_cpu_ms": statistics.median(cpu) if cpu else None,
        "passes": passes,
    }


def failed_run(rate: int, seconds: int, error: str) -> dict:
    """A round that did not finish (the server could not take the sockets in time): nothing received, so
    the rate does not count as held."""
    none = dict.fromkeys(("p50", "p95", "p99", "max"))
    return {**none, "sent": rate * seconds, "received": 0, "errors": {"run_failed": error[-300:]}, "timeline": []}


def restart(run: Run, targets: dict[str, tuple[Server, Path]], workers: int) -> None:
    """Stop every server and start each again on its fixture: the next load is the first after a start."""
    run.stop_all()
    for name, (_, fixture) in list(targets.items()):
        server = run.start_peer(workers) if name == "peer" else run.start_gatehouse(workers, name)
        targets[name] = (server, fixture)


def aside(result: dict) -> dict:
    """A round's timeline (and its workers' and the bystander's seconds), taken out of the result for the
    timeline file."""
    return {
        "p50": result["p50"],
        "p99": result["p99"],
        "started_at": result.get("started_at"),
        "timeline": result.pop("timeline", []),
        "workers": result.pop("workers", {}),
        "bystander": result.get("bystander"),
        "bystander_seconds": result.pop("bystander_seconds", []),
    }


def spread(values: list[float | None]) -> dict[str, float | None]:
    numbers = [v for v in values if v is not None]
    if not numbers:
        return {"median": None, "min": None, "max": None}
    return {"median": round(statistics.median(numbers), 3), "min": min(numbers), "max": max(numbers)}


def by_round(rounds: list[dict], measured: list[str]) -> dict:
    """Each round's p99 per server and Gatehouse's ratio to each other server, with the ratios' median and
    spread: a median that hides one bad round is not a tail fixed."""
    others = [w for w in measured if w != "gatehouse"]
    table = [
        {
            "round": i + 1,
            "first": r["first"],
            **{f"{w}_p99": r[w]["p99"] for w in measured},
            **{f"ratio_{w}": ratio(r["gatehouse"]["p99"], r[w]["p99"]) for w in others},
            **{f"{w}_bystander": r[w].get("bystander") for w in measured},
        }
        for i, r in enumerate(rounds)
    ]
    return {"rounds": table, **{f"ratio_{w}": spread([row[f"ratio_{w}"] for row in table]) for w in others}}


def first_rounds(rounds: list[dict], measured: list[str]) -> dict:
    """Each server's p99 in its first round after a start against the median of its later rounds."""
    result = {}
    for which in measured:
        p99s = [r[which]["p99"] for r in rounds]
        later = [p for p in p99s[1:] if p is not None]
        median_later = round(statistics.median(later), 2) if later else None
        result[which] = {"first_p99": p99s[0], "later_median_p99": median_later, "ratio": ratio(p99s[0], median_later)}
    return result


def median_of(results: list[dict]) -> dict:
    """One result from repeated runs: the median of each latency figure, the totals of the counts,
    and the runs themselves under `runs`."""
    if len(results) == 1:
        return results[0]
    if not results:
        empty = {"p50": None, "p99": None}
        return {**empty, "p95": None, "max": None, "sent": 0, "received": 0, "roundtrip": empty, "runs": []}

    def median(values: list) -> float | None:
        numbers = [v for v in values if v is not None]
        return round(statistics.median(numbers), 2) if numbers else None

    merged = {**results[-1], "runs": results}
    for key in ("p50", "p95", "p99", "max", "wal_kib_per_visitor"):
        merged[key] = median([r.get(key) for r in results])
    for key in ("sent", "received"):
        merged[key] = sum(r[key] for r in results)
    for key in ("roundtrip", "cpu_ms_per_visitor"):
        if all(isinstance(r.get(key), dict) for r in results):
            found = [r[key] for r in results]
            merged[key] = {k: median([f.get(k) for f in found]) for k in found[0]}
    return merged


def ratio(gatehouse: float | None, peer: float | None) -> float | None:
    if gatehouse is None or peer in (None, 0):
        return None
    return round(gatehouse / peer, 3)


def missing(database_url: str) -> str | None:
    """What this machine lacks for a run, as one line that says how to get it; None when nothing."""
    if not (PEER_SRC / "package-lock.json").exists():
        return (
            f"scripts/bench: the peer benchmark is not at {PEER_SRC} (its Node.js peer and load scripts drive "
            "both servers); check it out there or point PEER_BENCH_DIR at it"
        )
    for tool, package in (
        ("node", "Node.js 18 or newer"),
        ("npm", "Node.js 18 or newer"),
        ("psql", "postgresql-client"),
    ):
        if shutil.which(tool) is None:
            return f"scripts/bench: {tool} is not on PATH; install {package}"
    try:
        psql(database_url, "SELECT 1")
    except (OSError, subprocess.CalledProcessError):
        return f"scripts/bench: cannot reach PostgreSQL at {database_url}; set DATABASE_URL (and REDIS_URL)"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--sweep", default="100,200,300,500,750,1000", help="rates for the p99 < 50 ms search")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--flats", type=int, default=200)
    parser.add_argument("--guards", type=int, default=4)
    parser.add_argument("--idle", default="1000,9000", help="idle-socket counts; empty to skip")
    parser.add_argument(
        "--roundtrip-rates", default="100,200", help="rates for the walk-in-to-approval round trip; empty to skip"
    )
    parser.add_argument("--fanout", type=int, default=1000, help="sockets in the fan-out room; 0 to skip")
    parser.add_argument("--quick", action="store_true", help="small numbers, to check the script itself")
    parser.add_argument("--baseline", help="a commit of Gatehouse to measure beside this checkout")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per rate and server; figures are their median")
    parser.add_argument("--headline", type=int, default=200, help="the rate run first after a fresh start")
    parser.add_argument("--rounds", type=int, default=9, help="rounds at the headline rate (at least --repeat)")
    parser.add_argument("--catalogue", action="store_true", help="only the catalogue-browse scenario, cache on and off")
    parser.add_argument("--concurrency", type=int, default=16, help="catalogue: customers browsing at once")
    parser.add_argument("--products", type=int, default=200, help="catalogue: products in the shop")
    parser.add_argument("--changes", type=float, default=0.5, help="catalogue: restocks per second meanwhile")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if args.catalogue:
        import bench_catalogue

        return bench_catalogue.main(args, database_url, redis_url)
    if args.quick:
        args.rates, args.sweep, args.seconds, args.idle, args.fanout, args.flats = "50", "100", 3, "200", 100, 40
        args.roundtrip_rates = "50"
        args.headline, args.repeat, args.rounds = 50, 1, 2
    rates = [int(r) for r in args.rates.split(",")]
    sweep = sorted({*rates, *(int(r) for r in args.sweep.split(","))})

    run = Run(database_url, redis_url, args.workers)
    if problem := missing(run.database_url):
        print(problem, file=sys.stderr)
        return 2
    prepare_peer()
    if args.baseline:
        run.builds["baseline"] = prepare_baseline(args.baseline)
        run.pool_max = 12
    for build in run.builds.values():
        psql(run.database_url, f'CREATE DATABASE "{build.db}"')
    psql(run.database_url, f'CREATE DATABASE "{run.peer_db}"')
    psql(run.database_url, f'CREATE DATABASE "{run.bystander_db}"')
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    bystander = Bystander(
        with_database(run.database_url, run.bystander_db), run.redis_url, WORK / f"bystander-{stamp}.jsonl"
    )
    report: dict = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "workers": args.workers,
        "seconds_per_run": args.seconds,
        "flats": args.flats,
        # The machine is shared: its load while measuring says how far to trust the figures.
        "machine": {"cores": os.cpu_count(), "loadavg_start": os.getloadavg()},
        "db_pool_max_per_worker": run.pool_max,
        "repeat": args.repeat,
    }
    try:
        targets = {}
        for name in run.builds:
            server = run.start_gatehouse(args.workers, name)
            targets[name] = (server, provision_gatehouse(run, name, server, args.flats, args.guards))
        peer = run.start_peer(args.workers)
        peer_fx = provision_peer(run, args.flats, args.guards)
        gh_fx = targets["gatehouse"][1]
        targets["peer"] = (peer, peer_fx)

        def flow(which: str, rate: int, roundtrip: bool = False) -> dict:
            server, fixture = targets[which]
            env = {**os.environ, "ROUNDTRIP": "1" if roundtrip else "0"}
            load = os.getloadavg()[0]
            marks: list[Counter[str]] = []
            result = node_json(
                ["flow_timeline.js", str(fixture), server.url, str(rate), str(args.seconds)],
                env=env,
                mark=lambda: marks.append(cpu_ticks(server)),
            )
            result["cpu_ms_per_visitor"] = cpu_per_request(*marks, result["sent"], result["client_cpu_ms"])
            if not roundtrip:
                since = result["started_at"] / 1000
                result["bystander_seconds"] = bystander.seconds(int(since), since + args.seconds)
                result["bystander"] = found = bystander_summary(result["bystander_seconds"])
                if found is not None:  # everything PostgreSQL wrote meanwhile, the bystander's 20 rows a second too
                    result["wal_kib_per_visitor"] = round(found["wal_bytes_per_s"] / rate / 1024, 2)
            if which == "gatehouse" and not roundtrip:
                result["workers"] = worker_seconds(server, args.workers, since - 1, since + args.seconds + 3)
            result["loadavg_1m"] = load
            log(
                f"{which:9} rate {rate:4}/s roundtrip={roundtrip}: p50 {result['p50']} p99 {result['p99']} "
                f"received {result['received']}/{result['sent']} errors {result['errors']} load {load:.2f} "
                f"CPU ms per visitor {result['cpu_ms_per_visitor']}"
            )
            return result

        order = ["peer", "gatehouse"]
        measured = [*order, *(["baseline"] if "baseline" in run.builds else [])]
        timelines: dict[str, list[dict]] = {}

        def in_turn(rate: int, first: int, rounds: int, roundtrip: bool = False) -> dict[str, dict]:
            """Each server at `rate`, `rounds` times, the order flipping each round; the median of each, and
            (for the visitor flow) each round's p99s and second-by-second timeline kept aside."""
            runs: dict[str, list[dict]] = {which: [] for which in measured}
            for round_ in range(rounds):
                turn = measured if (first + round_) % 2 == 0 else list(reversed(measured))
                for which in turn:
                    try:
                        runs[which].append(flow(which, rate, roundtrip))
                    except RuntimeError as exc:  # an overloaded server, or the peer's script on a reset connection
                        log(f"{which:9} rate {rate}/s round {round_ + 1} failed: {str(exc)[-300:]}")
                        if not roundtrip:
                            runs[which].append(failed_run(rate, args.seconds, str(exc)))
                if not roundtrip:
                    timelines.setdefault(str(rate), []).append(
                        {"first": turn[0], **{w: aside(runs[w][-1]) for w in measured}}
                    )
            return {which: median_of(results) for which, results in runs.items()}

        restart(run, targets, args.workers)  # the headline rate's first round is then the first after a start
        headline = args.headline if args.headline in sweep else sweep[0]
        sweep_results: dict[str, dict[int, dict]] = {which: {} for which in measured}
        for i, rate in enumerate([headline, *(r for r in sweep if r != headline)]):
            rounds = max(args.repeat, args.rounds) if rate == headline else args.repeat
            for which, result in in_turn(rate, i, rounds).items():
                sweep_results[which][rate] = result
        report["visitor_flow"] = {w: {str(r): sweep_results[w][r] for r in rates} for w in sweep_results}
        report["sweep"] = {w: {str(r): sweep_results[w][r] for r in sweep} for w in sweep_results}
        report["rounds"] = {rate: by_round(rounds, measured) for rate, rounds in timelines.items()}
        report["first_round"] = first_rounds(timelines[str(headline)], measured)
        report["headline_rate"] = headline
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{stamp}-timeline.json").write_text(json.dumps(timelines))  # kept should a later phase fail

        def held(which: str) -> int | None:
            good = [
                r
                for r, res in sweep_results[which].items()
                if res["p99"] is not None and res["p99"] < P99_TARGET_MS and res["received"] == res["sent"]
            ]
            return max(good) if good else None

        report["highest_rate_p99_under_50ms"] = {which: held(which) for which in measured}
        report["roundtrip"], report["roundtrip_runs"] = {}, {}
        report["cpu_ms_per_visitor"] = {
            f"visitor flow {headline}/s": {w: sweep_results[w][headline].get("cpu_ms_per_visitor") for w in measured}
        }
        for rate in (int(r) for r in args.roundtrip_rates.split(",") if r):
            trips = in_turn(rate, 0, args.repeat, roundtrip=True)
            report["roundtrip"][str(rate)] = {which: trips[which]["roundtrip"] for which in measured}
            report["roundtrip_runs"][str(rate)] = {
                which: [run_["roundtrip"] for run_ in trips[which].get("runs", [trips[which]])] for which in measured
            }
            report["cpu_ms_per_visitor"][f"round trip {rate}/s"] = {
                which: trips[which].get("cpu_ms_per_visitor") for which in measured
            }
        if "baseline" in run.builds:
            report["baseline"] = args.baseline

        if args.fanout:
            report["fanout"] = fan_out(run, targets, {"gatehouse": gh_fx, "peer": peer_fx}, args.fanout)
        # Idle memory on fresh processes for each count: after an earlier run either server would
        # reuse memory that run freed (or not, as V8 pleases), and the per-socket figure would move.
        idle: dict[str, dict[str, dict]] = {"gatehouse": {}, "peer": {}}
        for count in (int(c) for c in args.idle.split(",") if c):
            run.stop_all()
            fresh = {"gatehouse": (run.start_gatehouse(1), gh_fx), "peer": (run.start_peer(1), peer_fx)}
            for which in order:
                server, fixture = fresh[which]
                idle[which][str(count)] = idle_sockets(server, fixture, count)
                log(f"{which:9} idle {count}: {idle[which][str(count)]}")
        report["idle_sockets"] = idle
    finally:
        run.stop_all()
        bystander.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            for db in (*(build.db for build in run.builds.values()), run.peer_db, run.bystander_db):
                psql(run.database_url, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')

    report["machine"]["loadavg_end"] = os.getloadavg()
    report["summary"] = summarise(report, rates)
    report["targets"] = issue_targets(report)
    table = markdown(report["summary"]) + "\n" + rounds_markdown(report) + "\n" + targets_markdown(report["targets"])
    if "baseline" in report:
        report["against_baseline"] = summarise(report, rates, other="baseline")
        table += "\n" + markdown(report["against_baseline"], other=f"baseline {args.baseline}")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2))
    (RESULTS / f"{stamp}.md").write_text(table)
    print(table)
    log(f"wrote bench-results/{stamp}.json, .md and -timeline.json")
    for path in bench_plot.plot(timelines, RESULTS / f"{stamp}-timeline"):
        log(f"wrote {path.relative_to(ROOT)}")
    return 0


def summarise(
    report: dict, rates: list[int], other: str = "peer"
) -> list[tuple[str, float | None, float | None, float | None]]:
    """This checkout against `other` (the peer, or the baseline: then only what both were measured on)."""
    rows = []
    vf = report["visitor_flow"]
    for rate in rates:
        for p in ("p50", "p95", "p99", "max"):
            g, p_ = vf["gatehouse"][str(rate)][p], vf[other][str(rate)][p]
            rows.append((f"visitor flow {rate}/s {p} (ms)", g, p_, ratio(g, p_)))
        g, p_ = (vf[w][str(rate)].get("wal_kib_per_visitor") for w in ("gatehouse", other))
        rows.append((f"visitor flow {rate}/s: WAL written per visitor (KiB)", g, p_, ratio(g, p_)))
    held = report["highest_rate_p99_under_50ms"]
    rows.append(
        ("highest rate with p99 < 50 ms (/s)", held["gatehouse"], held[other], ratio(held["gatehouse"], held[other]))
    )
    for rate, rt in report["roundtrip"].items():
        for p in ("p50", "p99"):
            g, p_ = rt["gatehouse"][p], rt[other][p]
            rows.append((f"round trip {rate}/s {p} (ms)", g, p_, ratio(g, p_)))
    for label, cpu in report["cpu_ms_per_visitor"].items():
        for part in ("all", "server", "postgres", "redis", "client"):
            g, p_ = ((cpu[w] or {}).get(part) for w in ("gatehouse", other))
            rows.append((f"{label}: CPU per visitor, {part} (ms)", g, p_, ratio(g, p_)))
    if other != "peer":
        return rows
    for count, g in report["idle_sockets"]["gatehouse"].items():
        p_ = report["idle_sockets"]["peer"][count]
        rows.append(
            (
                f"RSS per idle socket at {count} (KiB)",
                g["kib_per_socket"],
                p_["kib_per_socket"],
                ratio(g["kib_per_socket"], p_["kib_per_socket"]),
            )
        )
    fan = report.get("fanout")
    for where in ("one_worker", "two_workers") if fan else ():
        gh, peer = fan[f"gatehouse_{where}"], fan[f"peer_{where}"]
        label = f"{gh['sockets']}, {where.replace('_', ' ')}"
        for name, key in (
            (f"fan-out to {label}, last (ms)", "median_last_ms"),
            (f"the client's CPU in fan-out to {label} (ms)", "median_client_cpu_ms"),
        ):
            rows.append((name, gh[key], peer[key], ratio(gh[key], peer[key])))
    return rows


def markdown(rows: list[tuple[str, float | None, float | None, float | None]], other: str = "peer") -> str:
    lines = [f"| measure | Gatehouse | {other} | Gatehouse / {other} |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {g} | {p} | {r} |" for name, g, p, r in rows]
    return "\n".join(lines) + "\n"


def rounds_markdown(report: dict) -> str:
    """Each rate's rounds: p99 per server, Gatehouse's ratio, and the ratio's median and spread; then each
    server's first round after a start against its later ones."""
    lines = [
        "| rate | round | first | Gatehouse p99 | peer p99 | ratio |",
        "| ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for rate, found in report["rounds"].items():
        for row in found["rounds"]:
            lines.append(
                f"| {rate}/s | {row['round']} | {row['first']} | {row['gatehouse_p99']} | {row['peer_p99']} "
                f"| {row['ratio_peer']} |"
            )
        s = found["ratio_peer"]
        lines.append(f"| {rate}/s | median [min to max] | | | | {s['median']} [{s['min']} to {s['max']}] |")
    lines += ["", *bystander_markdown(report)]
    lines += ["", "| first round after a start | first p99 | later rounds' median p99 | first / later |"]
    lines.append("| --- | ---: | ---: | ---: |")
    rate = report["headline_rate"]
    for which, f in report["first_round"].items():
        lines.append(f"| {which} at {rate}/s | {f['first_p99']} | {f['later_median_p99']} | {f['ratio']} |")
    return "\n".join(lines) + "\n"


def bystander_markdown(report: dict) -> list[str]:
    """Each round's p99 beside what the bystander (scripts/bench_bystander.py) saw meanwhile: its commits, its
    Redis PINGs, how late its timer fired, and the machine's busiest second."""
    lines = [
        "| rate | round | server | p99 | bystander commit p50 / p99 / max | PING max | timer late max "
        "| busy max | steal max | others' CPU, worst second |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for rate, found in report["rounds"].items():
        for row in found["rounds"]:
            for which in (k.removesuffix("_p99") for k in row if k.endswith("_p99")):
                b = row.get(f"{which}_bystander")
                if b is None:
                    continue
                who = ", ".join(f"{name} {ms}" for name, ms in b["others_top"])
                lines.append(
                    f"| {rate}/s | {row['round']} | {which} | {row[f'{which}_p99']} "
                    f"| {b['commit_p50_ms']} / {b['commit_p99_ms']} / {b['commit_max_ms']} | {b['ping_max_ms']} "
                    f"| {b['timer_late_max_ms']} | {b['busy_max_pct']}% | {b['steal_max_pct']}% "
                    f"| {b['others_max_ms']} ms ({who}) |"
                )
    return lines


def issue_targets(report: dict) -> list[tuple[str, str, bool | None]]:
    """Issue #13's targets against this run: what each asks, what was measured, and whether it holds."""
    rate = report["headline_rate"]
    p99 = report["rounds"][str(rate)]["ratio_peer"]
    first = report["first_round"]["gatehouse"]["ratio"]
    held = report["highest_rate_p99_under_50ms"]
    held_ratio = ratio(held["gatehouse"], held["peer"])
    rows = dict((name, r) for name, _, _, r in report["summary"])
    idle = next((r for name, r in rows.items() if name.startswith("RSS per idle socket at 9000")), None)
    fan = {
        where: next(
            (r for name, r in rows.items() if name.startswith("fan-out") and where.replace("_", " ") in name), None
        )
        for where in ("one_worker", "two_workers")
    }

    def under(value: float | None, bound: float) -> bool | None:
        return None if value is None else value <= bound

    return [
        (
            f"p99 at {rate}/s, median ratio <= 0.7",
            f"{p99['median']} ({len(report['rounds'][str(rate)]['rounds'])} rounds)",
            under(p99["median"], 0.7),
        ),
        (f"p99 at {rate}/s, no round above 1.0", f"max {p99['max']}", under(p99["max"], 1.0)),
        ("first round p99 <= 1.5x the later rounds", f"{first}", under(first, 1.5)),
        (
            "highest rate with p99 < 50 ms >= 1.5x",
            f"{held['gatehouse']} / {held['peer']} = {held_ratio}",
            None if held_ratio is None else held_ratio >= 1.5,
        ),
        ("memory per idle socket at 9,000 <= 1.5x", f"{idle}", under(idle, 1.5)),
        ("fan-out to 1,000, two workers <= 1.0x", f"{fan['two_workers']}", under(fan["two_workers"], 1.0)),
        ("fan-out to 1,000, one worker <= 1.0x", f"{fan['one_worker']}", under(fan["one_worker"], 1.0)),
    ]


def targets_markdown(rows: list[tuple[str, str, bool | None]]) -> str:
    marks = {True: "met", False: "not met", None: "not measured"}
    lines = ["| target (issue #13) | measured | |", "| --- | --- | --- |"]
    lines += [f"| {name} | {measured} | {marks[met]} |" for name, measured, met in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
