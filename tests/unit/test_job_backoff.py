"""Retries back off: doubling from the job's first delay, capped at an hour, a little jitter."""

from __future__ import annotations

from app.platform.jobs import Job, backoff


async def _noop(ctx: object, payload: dict[str, object]) -> None:
    return None


def test_the_delay_doubles_per_attempt_with_at_most_ten_percent_jitter() -> None:
    job = Job("x", _noop, backoff=2.0)
    for attempt, base in ((1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)):
        delay = backoff(job, attempt)
        assert base <= delay <= base * 1.1


def test_the_delay_never_exceeds_an_hour_and_a_tenth() -> None:
    assert 3600 <= backoff(Job("x", _noop, backoff=2.0), 40) <= 3960
