"""Prometheus metrics served at /metrics (per worker process)."""

from __future__ import annotations

import hmac
import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from app.platform.http import NotFound

HTTP_REQUESTS = Counter("gatehouse_http_requests_total", "HTTP requests answered", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "gatehouse_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
SOCKETS_OPEN = Gauge("gatehouse_sockets_open", "Socket.IO connections open in this worker")
EVENTS_EMITTED = Counter("gatehouse_events_emitted_total", "Events emitted to rooms", ["type"])
JOBS_RUN = Counter(
    "gatehouse_jobs_run_total",
    "Job runs in this worker, by how they ended (succeeded, retried, dead)",
    ["job", "outcome"],
)
JOBS = Gauge("gatehouse_jobs", "Jobs in the queue by status, as last counted by this worker", ["status"])
CACHE_LOOKUPS = Counter(
    "gatehouse_cache_lookups_total",
    "Lookups of cached answers by kind and outcome: hit, miss, or unavailable (Redis failing: read from PostgreSQL)",
    ["kind", "outcome"],
)
CACHE_INVALIDATIONS = Counter(
    "gatehouse_cache_invalidations_total",
    "Cache scopes given a new generation after a change committed: sent, or failed (sent again later)",
    ["outcome"],
)
_PAUSES = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)
GC_PAUSE = Histogram(
    "gatehouse_gc_pause_seconds",
    "Garbage-collector passes, by generation: nothing else runs",
    ["generation"],
    buckets=_PAUSES,
)
LOOP_LAG = Histogram(
    "gatehouse_event_loop_lag_seconds", "How late the event loop woke a 50 ms sleep: work that held it", buckets=_PAUSES
)


def allowed(request: Request) -> bool:
    """With METRICS_TOKEN set, a scraper shows it as a bearer token; without, only this machine may look."""
    token: str = request.app.state.gatehouse.settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    ip = request.scope.get("state", {}).get("client_ip")
    try:
        return ip is not None and ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


async def endpoint(request: Request) -> Response:
    """The metrics, to whoever may read them; to anyone else no such route (the page says what runs here)."""
    if not allowed(request):
        raise NotFound("No such route.")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
