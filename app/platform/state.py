"""What the lifespan builds and every handler uses, as one typed object."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from starlette.requests import HTTPConnection

from app.platform.cache import Cache
from app.platform.config import Settings
from app.platform.db import Database
from app.platform.jobs import Jobs
from app.platform.notify import Notifier
from app.platform.payments import Gateways
from app.platform.push import Pusher
from app.platform.ratelimit import RateLimits
from app.platform.realtime.hub import Hub
from app.platform.realtime.outbox import Outbox
from app.platform.security.firebase import FirebaseVerifier
from app.platform.security.passwords import Passwords
from app.platform.security.permissions import Rules
from app.platform.security.principals import PrincipalCache
from app.platform.security.scopes import Scopes
from app.platform.security.tokens import AccessTokens


@dataclass(slots=True)
class AppState:
    settings: Settings
    db: Database
    redis: aioredis.Redis
    cache: Cache
    tokens: AccessTokens
    limits: RateLimits
    firebase: FirebaseVerifier | None
    notifier: Notifier
    pusher: Pusher
    payments: Gateways  # the configured providers; none: online payment is off
    hub: Hub
    outbox: Outbox
    jobs: Jobs
    principals: PrincipalCache
    passwords: Passwords
    rules: Rules
    scopes: Scopes


def app_state(conn: HTTPConnection) -> AppState:
    return conn.app.state.gatehouse
