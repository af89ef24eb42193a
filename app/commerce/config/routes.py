"""HTTP handlers for the commerce configuration."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.config import service
from app.commerce.config.schemas import ConfigPatch, ConfigQuery
from app.identity.current import principal
from app.platform.http import json, parse_body, parse_query
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="What applies at a shop (or globally): tax and loyalty rates, flags, currency, hours",
    query=ConfigQuery,
    response=service.Applied,
    tag="orders",
    errors=(404,),
)
async def get_config(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, ConfigQuery)
    return json(await service.read(app_state(request), shop_id=q.shop_id))


@doc(
    summary="Change the global values or a shop's overrides (admins)",
    body=ConfigPatch,
    response=service.Applied,
    tag="orders",
    errors=(404,),
)
async def update_config(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ConfigPatch)
    return json(await service.change(app_state(request), actor=caller, data=data))


routes = [
    Route("/v1/config", get_config, methods=["GET"]),
    Route("/v1/config", update_config, methods=["PATCH"]),
]
