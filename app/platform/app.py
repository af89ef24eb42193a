"""Build the ASGI app from the installed modules: Starlette routes and Socket.IO in one,
with a lifespan that owns the pool, Redis, the realtime hub and the job runner.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import socketio
import structlog
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp

from app.platform import asyncapi, context, logs, metrics, openapi, redis_client, timeline, upkeep
from app.platform.cache import Cache
from app.platform.config import Settings, check
from app.platform.db import UNAVAILABLE, Database
from app.platform.http import (
    ApiError,
    MethodNotAllowed,
    NotFound,
    Unavailable,
    error_response,
    internal_error_body,
    json,
)
from app.platform.jobs import Jobs
from app.platform.middleware import ClientIP, RequestMiddleware
from app.platform.migrations import migrate
from app.platform.modules import Installed
from app.platform.notify import LogNotifier, Notifier, WebhookNotifier
from app.platform.payments import Gateways
from app.platform.push import FcmPusher, Pusher, SkippingPusher
from app.platform.ratelimit import RateLimits
from app.platform.realtime.hub import Hub
from app.platform.realtime.outbox import WARM_SQL, Outbox
from app.platform.security.firebase import FirebaseVerifier
from app.platform.security.passwords import Passwords
from app.platform.security.principals import PrincipalCache
from app.platform.security.tokens import AccessTokens
from app.platform.smtp import SmtpNotifier
from app.platform.state import AppState, app_state

log = structlog.get_logger(__name__)

VERSION = "0.1.0"


async def healthz(request: Request) -> Response:
    return json({"status": "ok"})


READY_CACHE_SECONDS = 1.0


async def readyz(request: Request) -> Response:
    """200 when PostgreSQL and Redis both answer within a second; the answer is kept for a second per worker,
    so however often it is asked, the services are asked at most once a second."""
    app = request.app.state
    if getattr(app, "ready_lock", None) is None:
        app.ready_lock = asyncio.Lock()
    async with app.ready_lock:  # callers that arrive while the services are asked wait for that answer
        kept = getattr(app, "ready", None)
        if kept is None or time.monotonic() - kept[0] >= READY_CACHE_SECONDS:
            body, status = await _ready(app_state(request))
            kept = app.ready = (time.monotonic(), body, status)
    return json(kept[1], kept[2])


async def _ready(state: AppState) -> tuple[dict[str, object], int]:
    checks: dict[str, str] = {}

    async def postgres() -> None:
        async with state.db.connection() as conn:
            await conn.fetchval("SELECT 1")

    for name, probe in (("postgres", postgres), ("redis", state.redis.ping)):
        try:
            await asyncio.wait_for(probe(), timeout=1.0)
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return {"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503


async def openapi_json(request: Request) -> Response:
    return json(request.app.state.openapi)


async def asyncapi_json(request: Request) -> Response:
    return json(request.app.state.asyncapi)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """PostgreSQL refused or lost the connection (see `db.UNAVAILABLE`): try again shortly, not a fault."""
    log.warning("database_unavailable", path=request.url.path, error=type(exc).__name__)
    return error_response(
        Unavailable(
            "The database cannot be reached now; try again.", code="database_unavailable", headers={"Retry-After": "2"}
        )
    )


# nginx's word for it: the client closed the request before the answer. Nobody reads this one.
CLIENT_CLOSED_REQUEST = 499


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client went away while its body was being read: nothing failed here, so no 500 and no trace."""
    log.info("client_disconnected", path=request.url.path)
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _internal_error(request: Request, exc: Exception) -> Response:
    """The body of every unexpected failure: no trace, no SQL, just the request id to quote."""
    return json(internal_error_body(context.request_id.get()), 500)


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(NotFound("No such route."))


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 with every method the path takes: Starlette names only those of the first route matching the
    path, and a path with GET and POST is two routes here."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return error_response(MethodNotAllowed(headers={"Allow": ", ".join(sorted(methods))}))


def _notifier(settings: Settings) -> Notifier:
    """E-mail through SMTP_HOST when set; the rest (and e-mail without it) to NOTIFY_WEBHOOK_URL, else the log."""
    others: Notifier = WebhookNotifier(settings.notify_webhook_url) if settings.notify_webhook_url else LogNotifier()
    if not settings.smtp_host:
        return others
    return SmtpNotifier(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        security=settings.smtp_security,
        others=others,
    )


def _pusher(settings: Settings) -> Pusher:
    if settings.fcm_credentials:
        return FcmPusher(settings.fcm_credentials, endpoint=settings.fcm_endpoint)
    return SkippingPusher()


def _firebase(settings: Settings) -> FirebaseVerifier | None:
    if not settings.firebase_project_id:
        return None
    return FirebaseVerifier(project_id=settings.firebase_project_id, cert_url=settings.firebase_cert_url)


def build_state(settings: Settings, installed: Installed, *, serving: bool = True) -> AppState:
    """Everything the handlers use, unopened: the lifespan (or a command) opens the pool.

    A command run beside the servers (`serving=False`) only writes events; the servers' relay sends them.
    """
    check(settings)
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("Gatehouse needs DATABASE_URL and REDIS_URL; `gatehouse serve` provides them")
    db = Database(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max, warm_sql=WARM_SQL
    )
    redis = redis_client.client(settings.redis_url)
    cache = Cache(settings.redis_url, prefix=settings.redis_prefix)
    db.invalidate = cache.invalidate
    principals = PrincipalCache(ttl=settings.principal_cache_seconds)
    hub = Hub(settings, db, redis, on_rights_change=principals.evict_user)
    outbox = (
        hub.outbox
        if serving
        else Outbox(db, None, grace=settings.event_relay_grace, retention_days=settings.event_retention_days)
    )
    state = AppState(
        settings=settings,
        db=db,
        redis=redis,
        cache=cache,
        tokens=AccessTokens(
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=settings.access_token_ttl,
        ),
        limits=RateLimits(
            redis,
            redis_url=settings.redis_url,
            prefix=settings.redis_prefix,
            general=settings.rate_limit_general,
            auth=settings.rate_limit_auth,
            account_failures=settings.rate_limit_account,
            account_resets=settings.rate_limit_reset_emails,
            per_user={
                "invite": settings.rate_limit_invites,
                "resident_request": settings.rate_limit_resident_requests,
                "sync": settings.rate_limit_syncs,
                "upload": settings.rate_limit_uploads,
            },
        ),
        firebase=_firebase(settings),
        notifier=_notifier(settings),
        pusher=_pusher(settings),
        payments=Gateways.from_settings(settings),
        hub=hub,
        outbox=outbox,
        jobs=Jobs(db, settings, [*upkeep.JOBS, *installed.jobs()], [*upkeep.SCHEDULES, *installed.schedules()]),
        principals=principals,
        passwords=Passwords.configured(settings),
        rules=installed.rules(),
        scopes=installed.scopes(),
    )
    hub.bind(auth=installed.authenticator(state), rules=state.rules, scopes=state.scopes, limits=state.limits)
    return state


def _gauges(state: AppState) -> timeline.Gauges:
    """What each second of the timeline reads as it ends: the pool's connections, the open sockets."""
    return {
        "pool": lambda: state.db.pool.get_size(),
        "pool_idle": lambda: state.db.pool.get_idle_size(),
        "sockets": lambda: len(state.hub.sio.eio.sockets),
    }


# Middle-generation passes before the collector's full pass (Python's default is 10). A full pass walks every
# object made since start and holds the loop meanwhile: in scripts/bench's timeline 50-230 ms under load, every
# 5-10 s, each the worst second of its round. Ten times rarer; the young passes (a millisecond or two) still
# free most cyclic garbage as it comes.
FULL_PASS_AFTER = 100

# PostgreSQL and Redis connections each worker opens before it serves: a request holds one for a few ms, so
# this covers a few hundred requests/s with room for bursts. More open as load needs them (to DB_POOL_MAX),
# and stay open (see `Database.open`).
WARM_CONNECTIONS = 8
WARM_TIMEOUT = 3.0  # a service that is away does not hold the start up: /readyz says which it is


async def _within(seconds: float, work: Awaitable[None]) -> None:
    """`work`, given up after `seconds` (asyncio.timeout: 3.11's wait_for can swallow a stop's cancellation)."""
    async with asyncio.timeout(seconds):
        await work


async def _warm(state: AppState) -> None:
    """Make the worker ready for load before it takes any: uvicorn listens once the lifespan has started, so
    /readyz cannot answer from a cold worker. A fresh worker otherwise opens connections, reads types from
    the catalogue and subscribes to the other workers inside its first requests (in scripts/bench, the first
    round after a start had a p99 several times the later rounds')."""
    started = time.perf_counter()
    database, redis = await asyncio.gather(
        state.db.warm(WARM_CONNECTIONS, WARM_TIMEOUT),
        _within(WARM_TIMEOUT, state.hub.warm(WARM_CONNECTIONS)),
        return_exceptions=True,  # whatever a service that is away raises: start cold rather than not at all
    )
    for service, outcome in (("postgres", database), ("redis", redis)):
        if isinstance(outcome, BaseException):
            log.warning("warm_up_incomplete", service=service, error=type(outcome).__name__)
    log.info("warmed", seconds=round(time.perf_counter() - started, 3), connections=database)


def _lifespan(state: AppState) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Open what the state holds at start, in order, and close it in reverse at stop."""
    settings = state.settings

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        assert settings.database_url is not None
        if settings.migrate_on_start:
            await migrate(settings.database_url)
        await state.db.open()
        timeline.TIMELINE.start(_gauges(state))
        state.hub.start()
        if settings.run_jobs:
            state.jobs.start(state)
        await _warm(state)
        # What exists now (modules, schemas, the pool) lives as long as the process: keep it out
        # of the collector's full passes, which otherwise walk it again on every one.
        gc.collect()
        gc.freeze()
        gen0, gen1, _ = gc.get_threshold()
        gc.set_threshold(gen0, gen1, FULL_PASS_AFTER)
        log.info("started")
        try:
            yield
        finally:
            await state.jobs.stop()
            await state.hub.stop()
            if isinstance(state.notifier, WebhookNotifier | SmtpNotifier):
                await state.notifier.close()
            await state.payments.close()
            await state.redis.aclose()
            await state.cache.close()
            await timeline.TIMELINE.stop()
            await state.db.close()
            log.info("stopped")

    return lifespan


def _platform_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        Route("/metrics/timeline", timeline.endpoint, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/asyncapi.json", asyncapi_json, methods=["GET"]),
    ]


# What a multipart form adds around a file: boundaries, part headers, a few small fields.
MULTIPART_ENVELOPE = 64 * 1024


def _http_app(starlette: Starlette, state: AppState, installed: Installed) -> ASGIApp:
    """Starlette inside CORS (when origins are configured) inside the request middleware."""
    settings = state.settings
    http_app: ASGIApp = starlette
    if settings.cors_origins:
        http_app = CORSMiddleware(
            http_app,
            allow_origins=list(settings.cors_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "x-access-token", "idempotency-key", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
        )
    return RequestMiddleware(
        http_app,
        client_ip=ClientIP(settings.trusted_proxies),
        max_body=settings.max_body_bytes,
        larger_bodies={path: settings.upload_max_bytes + MULTIPART_ENVELOPE for path in installed.upload_paths()},
        limits=state.limits,
        unthrottled=installed.webhook_paths(),
    )


def build_app(settings: Settings, installed: Installed) -> ASGIApp:
    """The whole server as one ASGI app: HTTP and Socket.IO on one port."""
    logs.configure(settings.log_level, settings.log_format)
    state = build_state(settings, installed)
    routes = [*_platform_routes(), *installed.routes]
    starlette = Starlette(
        routes=routes,
        lifespan=_lifespan(state),
        exception_handlers={
            ApiError: _api_error,
            ClientDisconnect: _client_gone,
            **dict.fromkeys(UNAVAILABLE, _database_unavailable),
            404: _not_found,
            405: _method_not_allowed,
            Exception: _internal_error,
        },
    )
    starlette.state.gatehouse = state
    starlette.state.openapi = openapi.build(
        routes,
        title="Gatehouse",
        version=VERSION,
        tags=[(t.name, t.description) for t in installed.tags()],
        vocabularies={"role": [r.name for r in state.rules.roles], "scope_type": sorted(state.scopes.names)},
    )
    starlette.state.asyncapi = asyncapi.build(
        installed.events(), state.rules.room_types, title="Gatehouse realtime", version=VERSION
    )
    return socketio.ASGIApp(
        state.hub.sio, other_asgi_app=_http_app(starlette, state, installed), socketio_path="socket.io"
    )
