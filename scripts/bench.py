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

`--repeat N` runs each rate N times, in turn across the servers, and reports
the median: a single 10-second run's p99 on a shared 2-core machine can move
by several times between runs.

Usage: scripts/bench [--quick] [--rates 50,200,500] [--seconds 10] [--workers 2] [--baseline REF] [--repeat N]
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
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from script_support import free_port, logger, with_database

ROOT = Path(__file__).resolve().parent.parent
PEER_SRC = Path(os.environ.get("PEER_BENCH_DIR", ROOT.parent / "shared" / "peer-bench"))
WORK = ROOT / ".bench"
PEER = WORK / "peer-bench"
RESULTS = ROOT / "bench-results"
ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@example.com", "bench-admin-password"
P99_TARGET_MS = 50.0
FANOUT_ROUNDS = "9"  # the median of 9 rounds; single rounds swing by 2x on a shared machine


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
        """The processes holding sockets: the server itself or its worker children."""
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        children = [int(p) for p in out]
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
        return self._start(f"{build} x{workers}", port, command, chosen.root, self.gatehouse_env(chosen), "/readyz")

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


def node_json(args: list[str], *, env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    done = subprocess.run(
        ["node", *args], cwd=PEER, env=env or os.environ.copy(), capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"node {' '.join(args)} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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


def median_of(results: list[dict]) -> dict:
    """One result from repeated runs: the median of each latency figure, the totals of the counts,
    and the runs themselves under `runs`."""
    if len(results) == 1:
        return results[0]

    def median(values: list) -> float | None:
        numbers = [v for v in values if v is not None]
        return round(statistics.median(numbers), 2) if numbers else None

    merged = {**results[-1], "runs": results}
    for key in ("p50", "p95", "p99", "max"):
        merged[key] = median([r.get(key) for r in results])
    for key in ("sent", "received"):
        merged[key] = sum(r[key] for r in results)
    if all(isinstance(r.get("roundtrip"), dict) for r in results):
        trips = [r["roundtrip"] for r in results]
        merged["roundtrip"] = {k: median([t.get(k) for t in trips]) for k in trips[0]}
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
    parser.add_argument("--idle", default="1000,9000")
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="small numbers, to check the script itself")
    parser.add_argument("--baseline", help="a commit of Gatehouse to measure beside this checkout")
    parser.add_argument("--repeat", type=int, default=1, help="runs per rate and server; figures are their median")
    args = parser.parse_args()
    if args.quick:
        args.rates, args.sweep, args.seconds, args.idle, args.fanout, args.flats = "50", "100", 3, "200", 100, 40
    rates = [int(r) for r in args.rates.split(",")]
    sweep = sorted({*rates, *(int(r) for r in args.sweep.split(","))})

    run = Run(
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        args.workers,
    )
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
    report: dict = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "workers": args.workers,
        "seconds_per_run": args.seconds,
        "flats": args.flats,
        "machine": {"cores": os.cpu_count()},
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
            result = node_json(["visitor_flow.js", str(fixture), server.url, str(rate), str(args.seconds)], env=env)
            log(
                f"{which:9} rate {rate:4}/s roundtrip={roundtrip}: p50 {result['p50']} p99 {result['p99']} "
                f"received {result['received']}/{result['sent']} errors {result['errors']}"
            )
            return result

        order = ["peer", "gatehouse"]
        measured = [*order, *(["baseline"] if "baseline" in run.builds else [])]

        def in_turn(rate: int, first: int, roundtrip: bool = False) -> dict[str, dict]:
            """Each server at `rate`, `--repeat` times, the order flipping each round; the median of each."""
            runs: dict[str, list[dict]] = {which: [] for which in measured}
            for round_ in range(args.repeat):
                for which in measured if (first + round_) % 2 == 0 else reversed(measured):
                    runs[which].append(flow(which, rate, roundtrip))
            return {which: median_of(results) for which, results in runs.items()}

        sweep_results: dict[str, dict[int, dict]] = {which: {} for which in measured}
        for i, rate in enumerate(sweep):
            for which, result in in_turn(rate, i).items():
                sweep_results[which][rate] = result
        report["visitor_flow"] = {w: {str(r): sweep_results[w][r] for r in rates} for w in sweep_results}
        report["sweep"] = {w: {str(r): sweep_results[w][r] for r in sweep} for w in sweep_results}

        def held(which: str) -> int | None:
            good = [
                r
                for r, res in sweep_results[which].items()
                if res["p99"] is not None and res["p99"] < P99_TARGET_MS and res["received"] == res["sent"]
            ]
            return max(good) if good else None

        report["highest_rate_p99_under_50ms"] = {which: held(which) for which in measured}
        trips = in_turn(min(200, max(rates)), 0, roundtrip=True)
        report["roundtrip_200"] = {which: trips[which]["roundtrip"] for which in measured}
        report["roundtrip_200_runs"] = {
            which: [run_["roundtrip"] for run_ in trips[which].get("runs", [trips[which]])] for which in measured
        }
        if "baseline" in run.builds:
            report["baseline"] = args.baseline

        fan = {}
        for which in order:
            server, fixture = targets[which]
            fan[f"{which}_two_workers"] = fanout(fixture, server.url, args.fanout)
        run.stop_all()

        gatehouse1 = run.start_gatehouse(1)
        peer1 = run.start_peer(1)
        singles = {"gatehouse": (gatehouse1, gh_fx), "peer": (peer1, peer_fx)}
        for which in order:
            server, fixture = singles[which]
            fan[f"{which}_one_worker"] = fanout(fixture, server.url, args.fanout)
        report["fanout"] = fan
        # Idle memory on fresh processes for each count: after an earlier run either server would
        # reuse memory that run freed (or not, as V8 pleases), and the per-socket figure would move.
        idle: dict[str, dict[str, dict]] = {"gatehouse": {}, "peer": {}}
        for count in (int(c) for c in args.idle.split(",")):
            run.stop_all()
            fresh = {"gatehouse": (run.start_gatehouse(1), gh_fx), "peer": (run.start_peer(1), peer_fx)}
            for which in order:
                server, fixture = fresh[which]
                idle[which][str(count)] = idle_sockets(server, fixture, count)
                log(f"{which:9} idle {count}: {idle[which][str(count)]}")
        report["idle_sockets"] = idle
    finally:
        run.stop_all()
        with contextlib.suppress(subprocess.CalledProcessError):
            for build in run.builds.values():
                psql(run.database_url, f'DROP DATABASE IF EXISTS "{build.db}" WITH (FORCE)')
            psql(run.database_url, f'DROP DATABASE IF EXISTS "{run.peer_db}" WITH (FORCE)')

    report["summary"] = summarise(report, rates)
    table = markdown(report["summary"])
    if "baseline" in report:
        report["against_baseline"] = summarise(report, rates, other="baseline")
        table += "\n" + markdown(report["against_baseline"], other=f"baseline {args.baseline}")
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(report, indent=2))
    (RESULTS / f"{stamp}.md").write_text(table)
    print(table)
    log(f"wrote bench-results/{stamp}.json and .md")
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
    held = report["highest_rate_p99_under_50ms"]
    rows.append(
        ("highest rate with p99 < 50 ms (/s)", held["gatehouse"], held[other], ratio(held["gatehouse"], held[other]))
    )
    rt = report["roundtrip_200"]
    for p in ("p50", "p99"):
        rows.append((f"round trip {p} (ms)", rt["gatehouse"][p], rt[other][p], ratio(rt["gatehouse"][p], rt[other][p])))
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
    fan = report["fanout"]
    for where in ("one_worker", "two_workers"):
        g, p_ = fan[f"gatehouse_{where}"]["median_last_ms"], fan[f"peer_{where}"]["median_last_ms"]
        rows.append(
            (
                f"fan-out to {fan[f'gatehouse_{where}']['sockets']}, {where.replace('_', ' ')}, last (ms)",
                g,
                p_,
                ratio(g, p_),
            )
        )
    return rows


def markdown(rows: list[tuple[str, float | None, float | None, float | None]], other: str = "peer") -> str:
    lines = [f"| measure | Gatehouse | {other} | Gatehouse / {other} |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {g} | {p} | {r} |" for name, g, p, r in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
