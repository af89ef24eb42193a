"""HTTP handler for a mall's overview."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.overview import service
from app.platform.http import json, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="A mall's dashboard: cars inside, who is clocked in, today's showings, offers now (its staff)",
    response=service.Overview,
    tag="mall",
)
async def mall_overview(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.overview(app_state(request), actor=caller, mall_id=path_uuid(request)))


routes = [Route("/v1/malls/{id}/overview", mall_overview, methods=["GET"])]
