"""HTTP handlers for malls and shops."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.places import repo, service
from app.mall.places.schemas import MallIn, MallPatch, ShopIn, ShopPatch, ShopsQuery
from app.platform import idempotency
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import PageQuery, decode_cursor, page
from app.platform.state import app_state


def _key(item: repo.Mall | repo.Shop) -> tuple:
    return item.created_at, item.id


@doc(summary="Malls", query=PageQuery, tag="mall")
async def list_malls(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, PageQuery)
    items = await service.list_malls(app_state(request), after=decode_cursor(q.cursor), limit=q.limit)
    return json(page(items, q.limit, _key))


@doc(
    retryable=True,
    summary="Open a mall (admins)",
    body=MallIn,
    response=repo.Mall,
    status=201,
    tag="mall",
    links={
        "get_mall": "path.id",
        "update_mall": "path.id",
        "delete_mall": "path.id",
        "list_shops": "query.mall_id",
        "list_car_visits": "query.mall_id",
    },
)
async def create_mall(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, MallIn)
    status, body = await service.create_mall(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="One mall, with its parking tariff", response=repo.Mall, tag="mall")
async def get_mall(request: Request) -> Response:
    await principal(request)
    return json(await service.get_mall(app_state(request), path_uuid(request)))


@doc(summary="Change a mall (its admins)", body=MallPatch, response=repo.Mall, tag="mall")
async def update_mall(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, MallPatch)
    return json(await service.update_mall(app_state(request), actor=caller, mall_id=path_uuid(request), data=data))


@doc(summary="Close a mall with everything in it (admins)", status=204, tag="mall")
async def delete_mall(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_mall(app_state(request), actor=caller, mall_id=path_uuid(request))
    return no_content()


@doc(summary="Shops of a mall, optionally of one type", query=ShopsQuery, tag="mall")
async def list_shops(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, ShopsQuery)
    items = await service.list_shops(
        app_state(request), mall_id=q.mall_id, shop_type=q.shop_type, after=decode_cursor(q.cursor), limit=q.limit
    )
    return json(page(items, q.limit, _key))


@doc(
    retryable=True,
    summary="Open a shop in a mall (its admins)",
    body=ShopIn,
    response=repo.Shop,
    status=201,
    tag="mall",
    errors=(404, 409),
    links={"get_shop": "path.id", "update_shop": "path.id", "delete_shop": "path.id"},
)
async def create_shop(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ShopIn)
    status, body = await service.create_shop(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="One shop", response=repo.Shop, tag="mall")
async def get_shop(request: Request) -> Response:
    await principal(request)
    return json(await service.get_shop(app_state(request), path_uuid(request)))


@doc(
    summary="Change a shop (the mall's admins, the shop's managers)",
    body=ShopPatch,
    response=repo.Shop,
    tag="mall",
    errors=(409,),
)
async def update_shop(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ShopPatch)
    return json(await service.update_shop(app_state(request), actor=caller, shop_id=path_uuid(request), data=data))


@doc(summary="Remove a shop (the mall's admins)", status=204, tag="mall")
async def delete_shop(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_shop(app_state(request), actor=caller, shop_id=path_uuid(request))
    return no_content()


routes = [
    Route("/v1/malls", list_malls, methods=["GET"]),
    Route("/v1/malls", create_mall, methods=["POST"]),
    Route("/v1/malls/{id}", get_mall, methods=["GET"]),
    Route("/v1/malls/{id}", update_mall, methods=["PATCH"]),
    Route("/v1/malls/{id}", delete_mall, methods=["DELETE"]),
    Route("/v1/shops", list_shops, methods=["GET"]),
    Route("/v1/shops", create_shop, methods=["POST"]),
    Route("/v1/shops/{id}", get_shop, methods=["GET"]),
    Route("/v1/shops/{id}", update_shop, methods=["PATCH"]),
    Route("/v1/shops/{id}", delete_shop, methods=["DELETE"]),
]
