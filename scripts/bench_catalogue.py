"""The catalogue-browse scenario of scripts/bench: many customers of one shop list and filter its products,
open them and read its categories over HTTP, while its staff restock a product now and then (each restock
drops the shop's cached answers, as any change does). Gatehouse alone, with the catalogue cache on
(CATALOGUE_CACHE_TTL) and off (0), one after the other on the same database: p50, p99 and requests per
second of each, and the cache's hit ratio as its workers counted it (/metrics/timeline).

Each round starts a fresh server for each setting (which goes first flips every round); the figures are the
rounds' medians, the hit ratio is over all of them.

Usage: scripts/bench --catalogue [--seconds 10] [--concurrency 16] [--workers 2] [--products 200]
       [--changes 0.5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time

import aiohttp
from bench import ADMIN_EMAIL, ADMIN_PASSWORD, RESULTS, WORK, Run, Server, psql, worker_seconds
from script_support import free_port, logger

log = logger("bench catalogue")

CATEGORIES = ("Watches", "Straps", "Clocks", "Cases", "Tools", "Gifts")
BRANDS = ("Seiko", "Casio", "Titan", "Citizen", "Fossil")
SORTS = ("name", "price", "-price", "newest", "rating")
CACHE_TTL = 60  # the default: every change drops the shop's answers at once, so the TTL rarely matters
WARM_SECONDS = 2.0  # browsing before the measured seconds, so both runs start from a worked-in server


def _rng(seed: int) -> random.Random:
    """Seeded, so both runs browse the same way."""
    return random.Random(seed)  # noqa: S311 - the shape of a load, not a secret


def start(run: Run, workers: int, ttl: int) -> Server:
    """`gatehouse serve` on the run's database with CATALOGUE_CACHE_TTL=`ttl`, every worker up."""
    build = run.builds["gatehouse"]
    port = free_port()
    env = {**run.gatehouse_env(build), "CATALOGUE_CACHE_TTL": str(ttl)}
    command = [build.command, "serve", "--port", str(port), "--workers", str(workers)]
    server = run._start(f"catalogue-ttl{ttl} x{workers}", port, command, build.root, env, "/readyz")
    worker_seconds(server, workers, time.time())
    return server


async def _json(response: aiohttp.ClientResponse, status: int) -> dict:
    if response.status != status:
        raise RuntimeError(f"{response.method} {response.url}: {response.status} {await response.text()}")
    return await response.json()


async def provision(url: str, products: int, customers: int) -> dict:
    """A mall, one shop with categories and `products` products (brands, prices, stock, some featured, some
    with a choice), and `customers` signed-up customers; returns the ids and tokens the load needs."""
    rng = _rng(7)
    async with aiohttp.ClientSession(url) as http:
        login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        async with http.post("/v1/auth/login", json=login) as r:
            admin = {"authorization": f"Bearer {(await _json(r, 200))['access_token']}"}

        async def made(path: str, body: dict) -> dict:
            async with http.post(path, json=body, headers=admin) as r:
                return await _json(r, 201)

        mall = await made("/v1/malls", {"name": "Bench Mall", "timezone": "Asia/Kolkata"})
        shop = await made("/v1/shops", {"mall_id": mall["id"], "name": "Bench Watches", "shop_type": "retail"})
        categories = [
            (await made(f"/v1/shops/{shop['id']}/categories", {"name": name, "position": i}))["id"]
            for i, name in enumerate(CATEGORIES)
        ]
        strap = {
            "name": "Strap",
            "min_choices": 1,
            "options": [{"name": "Steel"}, {"name": "Leather", "price_delta": 1500}],
        }
        ids = []
        for n in range(products):
            body = {
                "shop_id": shop["id"],
                "name": f"{rng.choice(BRANDS)} model {n:03d}",
                "brand": rng.choice(BRANDS),
                "description": "Steel case, sapphire glass, water resistant",
                "category_id": rng.choice(categories),
                "price": rng.randrange(1_000, 500_000, 100),
                "stock": rng.randrange(0, 20),
                "featured": n % 10 == 0,
                "modifier_groups": [strap] if n % 3 == 0 else [],
            }
            ids.append((await made("/v1/products", body))["id"])
        tokens = []
        for n in range(customers):
            signup = {
                "email": f"browser-{n}-{rng.randrange(10**9)}@example.com",
                "password": ADMIN_PASSWORD,
                "name": "Browser",
            }
            async with http.post("/v1/auth/signup", json=signup) as r:
                tokens.append((await _json(r, 201))["access_token"])
        return {
            "shop_id": shop["id"],
            "categories": categories,
            "products": ids,
            "customers": tokens,
            "admin_token": admin["authorization"].removeprefix("Bearer "),
        }


def _browse(rng: random.Random, fixture: dict) -> tuple[str, str, dict]:
    """One customer step: (label, path, query). Pages come from a bounded set of filters and sorts, as
    customers' taps do, so repeated pages can be cached."""
    shop = fixture["shop_id"]
    roll = rng.random()
    if roll < 0.5:
        query = {"shop_id": shop, "sort": rng.choice(SORTS), "limit": "20"}
        extra = rng.random()
        if extra < 0.3:
            query["category_id"] = rng.choice(fixture["categories"])
        elif extra < 0.45:
            query["in_stock"] = "true"
        elif extra < 0.55:
            query["featured"] = "true"
        elif extra < 0.65:
            query["brand"] = rng.choice(BRANDS)
        return "list", "/v1/products", query
    if roll < 0.9:
        return "product", f"/v1/products/{rng.choice(fixture['products'])}", {}
    return "categories", f"/v1/shops/{shop}/categories", {}


async def load(url: str, fixture: dict, *, seconds: float, concurrency: int, changes: float) -> dict:
    """`concurrency` customers browsing for `seconds` (after WARM_SECONDS unmeasured) and a restock every
    1/`changes` s; latency per request in ms, errors, and the measured window."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    window = {"start": time.time() + WARM_SECONDS}
    window["end"] = window["start"] + seconds
    connector = aiohttp.TCPConnector(limit=concurrency + 1, force_close=False)
    async with aiohttp.ClientSession(url, connector=connector) as http:

        async def customer(n: int) -> None:
            rng = _rng(n)
            headers = {"authorization": f"Bearer {fixture['customers'][n % len(fixture['customers'])]}"}
            while (now := time.time()) < window["end"]:
                label, path, query = _browse(rng, fixture)
                started = time.perf_counter()
                try:
                    async with http.get(path, params=query, headers=headers) as r:
                        await r.read()
                        ok = r.status == 200
                except aiohttp.ClientError as exc:
                    ok, label = False, type(exc).__name__
                took = (time.perf_counter() - started) * 1000
                if not ok:
                    errors[label] = errors.get(label, 0) + 1
                elif now >= window["start"]:
                    latencies.append(took)

        async def staff() -> None:
            rng = _rng(99)
            headers = {"authorization": f"Bearer {fixture['admin_token']}"}
            while changes > 0 and time.time() < window["end"]:
                await asyncio.sleep(1 / changes)
                product = rng.choice(fixture["products"])
                move = {"kind": "restock", "amount": 1}
                async with http.post(f"/v1/products/{product}/stock-moves", json=move, headers=headers) as r:
                    if r.status != 200:
                        errors["restock"] = errors.get("restock", 0) + 1

        await asyncio.gather(staff(), *(customer(n) for n in range(concurrency)))
    return {"latencies": latencies, "errors": errors, **window}


def _percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)


def hit_ratio(server: Server, workers: int, start: float, end: float) -> dict:
    """Hits, misses and lookups Redis could not answer, summed over every worker's seconds in the window."""
    seconds = worker_seconds(server, workers, start, end)
    totals = {k: 0 for k in ("cache_hit", "cache_miss", "cache_unavailable")}
    for samples in seconds.values():
        for sample in samples:
            for key in totals:
                totals[key] += sample.get(key, 0)
    lookups = sum(totals.values())
    return {**totals, "lookups": lookups, "hit_ratio": round(totals["cache_hit"] / lookups, 3) if lookups else None}


def measure(run: Run, args: argparse.Namespace, ttl: int, fixture: dict) -> dict:
    server = start(run, args.workers, ttl)
    try:
        result = asyncio.run(
            load(
                server.url,
                fixture,
                seconds=args.seconds,
                concurrency=args.concurrency,
                changes=args.changes,
            )
        )
        time.sleep(1.5)  # the last second closes in every worker's timeline
        lat = result["latencies"]
        figures = {
            "catalogue_cache_ttl": ttl,
            "requests": len(lat),
            "per_second": round(len(lat) / args.seconds, 1),
            "p50": _percentile(lat, 0.5),
            "p99": _percentile(lat, 0.99),
            "mean": round(statistics.fmean(lat), 2) if lat else None,
            "errors": result["errors"],
            "cache": hit_ratio(server, args.workers, result["start"], result["end"]),
        }
    finally:
        run.stop_all()
    log(f"cache ttl {ttl:3}: {figures}")
    return figures


def summary(rounds: list[dict]) -> dict:
    """The rounds' medians of each latency figure, their summed cache counts and requests, and the rounds."""
    cache = {k: sum(r["cache"][k] for r in rounds) for k in ("cache_hit", "cache_miss", "cache_unavailable")}
    lookups = sum(cache.values())
    return {
        **{k: round(statistics.median(r[k] for r in rounds), 2) for k in ("per_second", "p50", "p99", "mean")},
        "requests": sum(r["requests"] for r in rounds),
        "errors": sum(sum(r["errors"].values()) for r in rounds),
        "cache": {
            **cache,
            "lookups": lookups,
            "hit_ratio": round(cache["cache_hit"] / lookups, 3) if lookups else None,
        },
        "rounds": rounds,
    }


def main(args: argparse.Namespace, database_url: str, redis_url: str) -> int:
    run = Run(database_url, redis_url, args.workers)
    build = run.builds["gatehouse"]
    try:
        psql(database_url, "SELECT 1")
    except (OSError, subprocess.CalledProcessError):
        print(
            f"scripts/bench: cannot reach PostgreSQL at {database_url}; set DATABASE_URL (and REDIS_URL)",
            file=sys.stderr,
        )
        return 2
    WORK.mkdir(exist_ok=True)
    psql(run.database_url, f'CREATE DATABASE "{build.db}"')
    report: dict = {
        "scenario": "catalogue browse",
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "machine": {"cores": os.cpu_count(), "loadavg_start": os.getloadavg()},
        **{k: getattr(args, k) for k in ("workers", "seconds", "concurrency", "products", "changes", "repeat")},
    }
    try:
        server = start(run, args.workers, CACHE_TTL)
        subprocess.run(
            [build.command, "create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD],
            env=run.gatehouse_env(build),
            check=True,
            capture_output=True,
        )
        log(f"provisioning a shop of {args.products} products and {args.concurrency} customers")
        fixture = asyncio.run(provision(server.url, args.products, args.concurrency))
        run.stop_all()
        rounds: dict[str, list[dict]] = {"cache_on": [], "cache_off": []}
        for round_ in range(args.repeat):  # which goes first flips each round: a shared machine drifts
            turn = [("cache_on", CACHE_TTL), ("cache_off", 0)]
            for name, ttl in turn if round_ % 2 == 0 else reversed(turn):
                rounds[name].append(measure(run, args, ttl, fixture))
        report.update({name: summary(found) for name, found in rounds.items()})
    finally:
        run.stop_all()
        psql(run.database_url, f'DROP DATABASE IF EXISTS "{build.db}" WITH (FORCE)')
    report["machine"]["loadavg_end"] = os.getloadavg()
    table = markdown(report)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}-catalogue.json").write_text(json.dumps(report, indent=2))
    (RESULTS / f"{stamp}-catalogue.md").write_text(table)
    print(table)
    log(f"wrote bench-results/{stamp}-catalogue.json and .md")
    return 0


def markdown(report: dict) -> str:
    """Cache on against cache off, one row per figure."""
    on, off = report["cache_on"], report["cache_off"]
    rows = [
        ("requests per second", on["per_second"], off["per_second"]),
        ("p50 (ms)", on["p50"], off["p50"]),
        ("p99 (ms)", on["p99"], off["p99"]),
        ("hit ratio", on["cache"]["hit_ratio"], off["cache"]["hit_ratio"]),
        ("errors", on["errors"], off["errors"]),
    ]
    lines = [
        f"catalogue browse: {report['concurrency']} customers, {report['repeat']} rounds of {report['seconds']} s "
        f"each way (medians), {report['workers']} workers, {report['products']} products, "
        f"{report['changes']} restocks/s",
        "",
        "| measure | cache on | cache off |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {a} | {b} |" for name, a, b in rows]
    return "\n".join(lines) + "\n"
