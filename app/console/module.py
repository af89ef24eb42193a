"""The live operations console: a page Gatehouse serves at /console/ for the people who run a place (a
society's admins and guards today), who sign in and watch their place over the same HTTP API and Socket.IO
rooms, events and `sync` as the phone apps. It is a client like any other: plain HTML, CSS and JavaScript
modules with the official Socket.IO client served from here (no build step, no CDN)."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.platform.modules import DomainModule

FILES = Path(__file__).parent / "static"
# The page runs its own scripts and styles and talks to this server only (HTTP and its WebSocket).
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: https:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class ConsoleFiles(StaticFiles):
    """The console's files under the page's policy, revalidated on every load so an upgrade shows at once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["content-security-policy"] = POLICY
        response.headers["cache-control"] = "no-cache"
        return response


async def _to_console(_request: object) -> Response:
    return RedirectResponse("/console/", status_code=308)


MODULE = DomainModule(
    name="console",
    routes=[
        Route("/console", _to_console, methods=["GET"]),
        Mount("/console", app=ConsoleFiles(directory=FILES, html=True), name="console"),
    ],
)
