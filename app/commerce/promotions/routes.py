"""HTTP handlers for a shop's promotions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.promotions import repo, service
from app.commerce.promotions.schemas import PromotionIn
from app.identity.current import principal
from app.platform.http import json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import PageQuery
from app.platform.state import app_state


@doc(
    summary="Send a promotion to the shop's customers who opted in (its managers, its mall's admins)",
    body=PromotionIn,
    response=repo.Promotion,
    status=201,
    tag="orders",
    errors=(404,),
)
async def create_promotion(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, PromotionIn)
    return json(await service.create(app_state(request), actor=caller, shop_id=path_uuid(request), data=data), 201)


@doc(summary="A shop's promotions, newest first", query=PageQuery, tag="orders", errors=(404,))
async def list_promotions(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, PageQuery)
    return json(await service.listed(app_state(request), actor=caller, shop_id=path_uuid(request), q=q))


routes = [
    Route("/v1/shops/{id}/promotions", create_promotion, methods=["POST"]),
    Route("/v1/shops/{id}/promotions", list_promotions, methods=["GET"]),
]
