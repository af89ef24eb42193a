"""HTTP handlers for offers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.offers import repo, service
from app.mall.offers.schemas import OfferIn, OfferPatch, OffersQuery
from app.platform import idempotency
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import decode_cursor, page
from app.platform.state import app_state


@doc(summary="Offers of a mall: at one shop, running now or not", query=OffersQuery, tag="offers")
async def list_offers(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, OffersQuery)
    items = await service.list_offers(
        app_state(request),
        mall_id=q.mall_id,
        shop_id=q.shop_id,
        active=q.active,
        after=decode_cursor(q.cursor),
        limit=q.limit,
    )
    return json(page(items, q.limit, lambda o: (o.created_at, o.id)))


@doc(
    retryable=True,
    summary="Put a discount on some of the mall's shops for a while (its admins)",
    body=OfferIn,
    response=repo.Offer,
    status=201,
    tag="offers",
    errors=(404,),
    links={"get_offer": "path.id", "update_offer": "path.id", "delete_offer": "path.id"},
)
async def create_offer(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, OfferIn)
    status, body = await service.create_offer(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="One offer", response=repo.Offer, tag="offers")
async def get_offer(request: Request) -> Response:
    await principal(request)
    return json(await service.get_offer(app_state(request), path_uuid(request)))


@doc(summary="Change an offer (the mall's admins)", body=OfferPatch, response=repo.Offer, tag="offers")
async def update_offer(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, OfferPatch)
    return json(await service.update_offer(app_state(request), actor=caller, offer_id=path_uuid(request), data=data))


@doc(summary="End an offer early (the mall's admins)", status=204, tag="offers")
async def delete_offer(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_offer(app_state(request), actor=caller, offer_id=path_uuid(request))
    return no_content()


routes = [
    Route("/v1/offers", list_offers, methods=["GET"]),
    Route("/v1/offers", create_offer, methods=["POST"]),
    Route("/v1/offers/{id}", get_offer, methods=["GET"]),
    Route("/v1/offers/{id}", update_offer, methods=["PATCH"]),
    Route("/v1/offers/{id}", delete_offer, methods=["DELETE"]),
]
