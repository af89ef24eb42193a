"""HTTP handlers for product reviews."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.reviews import repo, service
from app.commerce.reviews.schemas import ReviewIn, ReviewsQuery
from app.identity.current import principal
from app.platform.http import json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="A product's reviews, by rating or with words, newest first unless sorted",
    query=ReviewsQuery,
    tag="catalogue",
)
async def list_reviews(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, ReviewsQuery)
    return json(await service.reviews(app_state(request), actor=caller, product_id=path_uuid(request), q=q))


@doc(
    summary="Review a product you received (once)",
    body=ReviewIn,
    response=repo.Review,
    status=201,
    tag="catalogue",
    errors=(409,),
)
async def review_product(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ReviewIn)
    return json(await service.review(app_state(request), actor=caller, product_id=path_uuid(request), data=data), 201)


routes = [
    Route("/v1/products/{id}/reviews", list_reviews, methods=["GET"]),
    Route("/v1/products/{id}/reviews", review_product, methods=["POST"]),
]
