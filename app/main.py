"""Compose the ASGI app: the platform, and the domain modules installed in `DOMAINS`."""

from __future__ import annotations

from starlette.types import ASGIApp

from app.commerce.module import MODULE as COMMERCE
from app.console.module import MODULE as CONSOLE
from app.identity.module import MODULE as IDENTITY
from app.mall.module import MODULE as MALL
from app.media.module import MODULE as MEDIA
from app.platform.app import build_app, build_state
from app.platform.config import Settings, load_settings
from app.platform.modules import Installed
from app.platform.state import AppState
from app.society.module import MODULE as SOCIETY

# The installed domains, in dependency order (demo data is seeded in this order).
DOMAINS = Installed.of([IDENTITY, MEDIA, SOCIETY, MALL, COMMERCE, CONSOLE])


def state(settings: Settings, *, serving: bool = True) -> AppState:
    """The app state for a command run beside the servers (`serving=False` only writes events)."""
    return build_state(settings, DOMAINS, serving=serving)


def create_app(settings: Settings | None = None) -> ASGIApp:
    """The whole server as one ASGI app (uvicorn's factory)."""
    return build_app(settings or load_settings(), DOMAINS)
