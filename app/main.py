"""Build the ASGI app: Starlette routes and Socket.IO in one, with a lifespan
that owns the pool, Redis and the realtime hub's background work.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
import socketio
import structlog
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from app import context, logs, metrics, openapi
from app.config import Settings, check, load_settings
from app.db import Database, migrate
from app.http import ApiError, MethodNotAllowed, NotFound, error_response, internal_error_body, json
from app.identity.cache import PrincipalCache
from app.identity.routes import routes as identity_routes
from app.middleware import ClientIP, RequestMiddleware
from app.notify import LogNotifier, Notifier, WebhookNotifier
from app.push import FcmPusher, SkippingPusher
from app.ratelimit import RateLimits
from app.realtime.hub import Hub
from app.security.firebase import FirebaseVerifier
from app.security.tokens import AccessTokens
from app.society.hierarchy.routes import routes as society_routes
from app.society.residents.routes import routes as resident_routes
from app.society.visitors import service as visitors
from app.society.visitors.routes import routes as visitor_routes
from app.state import AppState, app_state

log = structlog.get_logger(__name__)

VERSION = "0.1.0"


async def healthz(request: Request) -> Response:
    return json({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when PostgreSQL and Redis both answer within a second."""
    state = app_state(request)
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
    return json({"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503)


async def openapi_json(request: Request) -> Response:
    return json(request.app.state.openapi)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _internal_error(request: Request, exc: Exception) -> Response:
    """The body of every unexpected failure: no trace, no SQL, just the request id to quote."""
    request_id = context.request_id.get()
    return json(internal_error_body(request_id), 500)


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(NotFound("No such route."))


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    allow = getattr(exc, "headers", None) or {}
    return error_response(MethodNotAllowed(headers={k: v for k, v in allow.items() if k.lower() == "allow"}))


def _notifier(settings: Settings) -> Notifier:
    return WebhookNotifier(settings.notify_webhook_url) if settings.notify_webhook_url else LogNotifier()


def build_state(settings: Settings) -> AppState:
    """Everything the handlers use, unopened: the lifespan (or a command) opens the pool."""
    check(settings)
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("Gatehouse needs DATABASE_URL and REDIS_URL; `gatehouse serve` provides them")
    db = Database(settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    redis = aioredis.from_url(settings.redis_url)
    hub = Hub(settings, db, redis)
    db.outbox = hub.outbox
    state = AppState(
        settings=settings,
        db=db,
        redis=redis,
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
        ),
        firebase=FirebaseVerifier(project_id=settings.firebase_project_id, cert_url=settings.firebase_cert_url)
        if settings.firebase_project_id
        else None,
        notifier=_notifier(settings),
        pusher=FcmPusher(settings.fcm_credentials, endpoint=settings.fcm_endpoint)
        if settings.fcm_credentials
        else SkippingPusher(),
        hub=hub,
        principals=PrincipalCache(ttl=settings.principal_cache_seconds),
    )
    hub.bind(state)
    return state


def create_app(settings: Settings | None = None) -> ASGIApp:
    """The whole server as one ASGI app (uvicorn's factory)."""
    settings = settings or load_settings()
    logs.configure(settings.log_level, settings.log_format)
    state = build_state(settings)
    db, redis, hub = state.db, state.redis, state.hub
    assert settings.database_url is not None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await migrate(settings.database_url)
        await db.open()
        hub.start()
        hub.spawn(visitors.escalation_loop(state))
        hub.spawn(visitors.partition_loop(state))
        # What exists now (modules, schemas, the pool) lives as long as the process: keep it out
        # of the collector's full passes, which otherwise walk it again on every one.
        gc.collect()
        gc.freeze()
        log.info("started")
        try:
            yield
        finally:
            await hub.stop()
            if isinstance(state.notifier, WebhookNotifier):
                await state.notifier.close()
            await redis.aclose()
            await db.close()
            log.info("stopped")

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics.endpoint, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"]),
        *identity_routes,
        *society_routes,
        *visitor_routes,
        *resident_routes,
    ]
    starlette = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            404: _not_found,
            405: _method_not_allowed,
            Exception: _internal_error,
        },
    )
    starlette.state.gatehouse = state
    starlette.state.openapi = openapi.build(routes, title="Gatehouse", version=VERSION)
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
    http_app = RequestMiddleware(
        http_app, client_ip=ClientIP(settings.trusted_proxies), max_body=settings.max_body_bytes, limits=state.limits
    )
    return socketio.ASGIApp(hub.sio, other_asgi_app=http_app, socketio_path="socket.io")
