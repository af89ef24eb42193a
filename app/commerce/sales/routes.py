"""HTTP handler for a shop's sales view."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.sales import service
from app.commerce.sales.schemas import SalesQuery
from app.identity.current import principal
from app.platform.http import json, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="A shop's sales by day, best sellers and payments by method (its managers, its mall's admins)",
    query=SalesQuery,
    response=service.Sales,
    tag="orders",
)
async def shop_sales(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, SalesQuery)
    found = await service.sales(
        app_state(request), actor=caller, shop_id=path_uuid(request), first_day=q.from_, last_day=q.to
    )
    return json(found)


routes = [Route("/v1/shops/{id}/sales", shop_sales, methods=["GET"])]
