"""The benchmark's timeline as pictures: one PNG per rate, a row per round. On the left each server's p50 and
p99 of the requests sent in each second, and the bystander's slowest commit in that second of that server's
round (scripts/bench_bystander.py); on the right what the Gatehouse workers did in that second (loop lag, GC
pauses, the slowest Redis publish, wait for rooms' writers before an emit, request and relay sweep; pool size
and new connections), so a slow second can be read against its cause. Needs matplotlib (the `bench` extra)."""

from __future__ import annotations

from pathlib import Path

COLOURS = {"gatehouse": "tab:blue", "peer": "tab:orange", "baseline": "tab:green"}
# What the right-hand panels draw from the workers' seconds: (label, key), the worst worker each second.
WORKER_MS = (
    ("loop lag max", "loop_lag_max_ms"),
    ("GC pause (all gens)", "gc_ms"),
    ("Redis publish max", "redis_publish_max_ms"),
    ("wait for rooms' writers before an emit, max", "event_wait_max_ms"),
    ("HTTP request max", "http_max_ms"),
    ("relay sweep max", "relay_max_ms"),
)


def plot(timelines: dict[str, list[dict]], stem: Path) -> list[Path]:
    """Write `<stem>-<rate>.png` for each rate; returns the paths (none when matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    for rate, rounds in timelines.items():
        figure, axes = plt.subplots(len(rounds), 2, figsize=(15, 2.8 * len(rounds)), squeeze=False)
        for row, found in enumerate(rounds):
            _latency(axes[row][0], found, f"{rate}/s, round {row + 1} ({found['first']} first)")
            _workers(axes[row][1], found.get("gatehouse", {}))
        figure.tight_layout()
        path = stem.with_name(f"{stem.name}-{rate}.png")
        figure.savefig(path, dpi=90)
        plt.close(figure)
        written.append(path)
    return written


def _latency(ax, found: dict, title: str) -> None:
    for which, colour in COLOURS.items():
        seconds = [s for s in found.get(which, {}).get("timeline") or [] if s]  # older runs: null for an empty second
        if not seconds:
            continue
        x = [s["second"] for s in seconds]
        ax.plot(x, [s["p99"] for s in seconds], color=colour, label=f"{which} p99 ({found[which]['p99']})")
        ax.plot(x, [s["p50"] for s in seconds], color=colour, linestyle="--", label=f"{which} p50")
        beside, started = found[which].get("bystander_seconds") or [], found[which].get("started_at")
        if beside and started is not None:
            ax.plot(
                [s["t"] - started / 1000 for s in beside],
                [max(s["commit_ms"], default=0.0) for s in beside],
                color=colour,
                linestyle=":",
                label=f"bystander's slowest commit, {which}'s round",
            )
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("second of the round")
    ax.set_ylabel("ms")
    ax.set_yscale("log")
    ax.legend(fontsize=7, loc="upper right")


def _worst(samples: dict[str, list[dict]], key: str, start: float) -> tuple[list[float], list[float]]:
    """Per second, the highest value of `key` over the workers (GC: the sum of the generations' pauses)."""
    worst: dict[float, float] = {}
    for seconds in samples.values():
        for s in seconds:
            value = sum(s.get(f"gc{g}_ms", 0.0) for g in range(3)) if key == "gc_ms" else s.get(key, 0.0)
            x = s["t"] - start
            worst[x] = max(worst.get(x, 0.0), value)
    xs = sorted(worst)
    return xs, [worst[x] for x in xs]


def _workers(ax, gatehouse: dict) -> None:
    samples, started = gatehouse.get("workers") or {}, gatehouse.get("started_at")
    if not samples or started is None:
        ax.set_visible(False)
        return
    start = started / 1000
    for label, key in WORKER_MS:
        xs, ys = _worst(samples, key, start)
        ax.plot(xs, ys, label=label)
    ax.set_ylabel("ms (worst worker)")
    ax.set_xlabel("second of the round")
    twin = ax.twinx()
    for pid, seconds in samples.items():
        xs = [s["t"] - start for s in seconds]
        twin.step(xs, [s.get("pool", 0) for s in seconds], where="post", color="grey", alpha=0.6, label=f"pool {pid}")
        connects = [(x, s["pg_connect"]) for x, s in zip(xs, seconds, strict=True) if s.get("pg_connect")]
        if connects:
            twin.scatter(*zip(*connects, strict=True), marker="^", color="red", label=f"new connections {pid}")
    twin.set_ylabel("connections")
    ax.set_title("Gatehouse workers", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    twin.legend(fontsize=7, loc="upper right")
