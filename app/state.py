"""What the lifespan builds and every handler uses, as one typed object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from starlette.requests import HTTPConnection

from app.config import Settings
from app.db import Database
from app.identity.cache import PrincipalCache
from app.notify import Notifier
from app.push import Pusher
from app.ratelimit import RateLimits
from app.security.firebase import FirebaseVerifier
from app.security.tokens import AccessTokens

if TYPE_CHECKING:
    from app.realtime.hub import Hub


@dataclass(slots=True)
class AppState:
    settings: Settings
    db: Database
    redis: aioredis.Redis
    tokens: AccessTokens
    limits: RateLimits
    firebase: FirebaseVerifier | None
    notifier: Notifier
    pusher: Pusher
    hub: Hub
    principals: PrincipalCache


def app_state(conn: HTTPConnection) -> AppState:
    return conn.app.state.gatehouse
