"""HTTP handlers for a shop's catalogue."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.catalogue import reads, repo, service, stock
from app.commerce.catalogue.schemas import (
    CategoryIn,
    CategoryPatch,
    FavouritesQuery,
    ProductIn,
    ProductPatch,
    ProductsQuery,
    ProductStockMoveIn,
)
from app.identity.current import principal
from app.platform import idempotency
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import PageQuery
from app.platform.state import app_state


def _json_bytes(body: bytes) -> Response:
    """An answer already in JSON (as the catalogue's cache keeps it)."""
    return Response(body, media_type="application/json")


@doc(summary="A shop's categories, in their order", tag="catalogue")
async def list_categories(request: Request) -> Response:
    await principal(request)
    return _json_bytes(await reads.categories(app_state(request), shop_id=path_uuid(request)))


@doc(
    summary="Add a category (the shop's managers)",
    body=CategoryIn,
    response=repo.Category,
    status=201,
    tag="catalogue",
    errors=(409,),
)
async def create_category(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CategoryIn)
    category = await service.create_category(app_state(request), actor=caller, shop_id=path_uuid(request), data=data)
    return json(category, 201)


@doc(summary="Rename or move a category", body=CategoryPatch, response=repo.Category, tag="catalogue", errors=(409,))
async def update_category(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CategoryPatch)
    category = await service.update_category(
        app_state(request),
        actor=caller,
        shop_id=path_uuid(request),
        category_id=path_uuid(request, "category_id"),
        data=data,
    )
    return json(category)


@doc(summary="Remove a category (its products stay, without one)", status=204, tag="catalogue")
async def delete_category(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_category(
        app_state(request), actor=caller, shop_id=path_uuid(request), category_id=path_uuid(request, "category_id")
    )
    return no_content()


@doc(
    summary="Browse and search a shop's products; `total` is how many match in all",
    query=ProductsQuery,
    tag="catalogue",
    errors=(404,),
)
async def list_products(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, ProductsQuery)
    return _json_bytes(await reads.products(app_state(request), actor=caller, q=q))


@doc(
    retryable=True,
    summary="Add a product, with its choices and stock (the shop's managers)",
    body=ProductIn,
    response=repo.Product,
    status=201,
    tag="catalogue",
    errors=(404,),
    links={
        "get_product": "path.id",
        "update_product": "path.id",
        "delete_product": "path.id",
        "move_product_stock": "path.id",
        "list_product_stock_moves": "path.id",
    },
)
async def create_product(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ProductIn)
    status, body = await service.create_product(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="One product, with its choices", response=repo.Product, tag="catalogue")
async def get_product(request: Request) -> Response:
    caller = await principal(request)
    return _json_bytes(await reads.product(app_state(request), actor=caller, product_id=path_uuid(request)))


@doc(summary="Change a product (the shop's managers)", body=ProductPatch, response=repo.Product, tag="catalogue")
async def update_product(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ProductPatch)
    product = await service.update_product(app_state(request), actor=caller, product_id=path_uuid(request), data=data)
    return json(product)


@doc(
    summary="Remove a product (the shop's managers); one that was ever ordered is archived, so its orders keep it",
    status=204,
    tag="catalogue",
)
async def delete_product(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_product(app_state(request), actor=caller, product_id=path_uuid(request))
    return no_content()


@doc(
    summary="Restock a counted product or record waste (its staff), or correct it after a count (its managers)",
    body=ProductStockMoveIn,
    response=repo.Product,
    tag="catalogue",
    errors=(404, 409),
)
async def move_product_stock(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ProductStockMoveIn)
    return json(await stock.move(app_state(request), actor=caller, product_id=path_uuid(request), data=data))


@doc(
    summary="A product's stock ledger, newest first (the shop's staff)", query=PageQuery, tag="catalogue", errors=(404,)
)
async def list_product_stock_moves(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, PageQuery)
    return json(
        await stock.moves(
            app_state(request), actor=caller, product_id=path_uuid(request), cursor=q.cursor, limit=q.limit
        )
    )


@doc(summary="Add a product on sale to your favourites", status=204, tag="catalogue", errors=(404,))
async def favour_product(request: Request) -> Response:
    caller = await principal(request)
    await service.favour(app_state(request), actor=caller, product_id=path_uuid(request))
    return no_content()


@doc(summary="Take a product off your favourites", status=204, tag="catalogue")
async def unfavour_product(request: Request) -> Response:
    caller = await principal(request)
    await service.unfavour(app_state(request), actor=caller, product_id=path_uuid(request))
    return no_content()


@doc(summary="Your favourite products still on sale, newest first", query=FavouritesQuery, tag="catalogue")
async def list_favourites(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, FavouritesQuery)
    found = await service.favourites(
        app_state(request), actor=caller, shop_id=q.shop_id, cursor=q.cursor, limit=q.limit
    )
    return json(found)


routes = [
    Route("/v1/favourites", list_favourites, methods=["GET"]),
    Route("/v1/favourites/{id}", favour_product, methods=["PUT"]),
    Route("/v1/favourites/{id}", unfavour_product, methods=["DELETE"]),
    Route("/v1/shops/{id}/categories", list_categories, methods=["GET"]),
    Route("/v1/shops/{id}/categories", create_category, methods=["POST"]),
    Route("/v1/shops/{id}/categories/{category_id}", update_category, methods=["PATCH"]),
    Route("/v1/shops/{id}/categories/{category_id}", delete_category, methods=["DELETE"]),
    Route("/v1/products", list_products, methods=["GET"]),
    Route("/v1/products", create_product, methods=["POST"]),
    Route("/v1/products/{id}", get_product, methods=["GET"]),
    Route("/v1/products/{id}", update_product, methods=["PATCH"]),
    Route("/v1/products/{id}", delete_product, methods=["DELETE"]),
    Route("/v1/products/{id}/stock-moves", list_product_stock_moves, methods=["GET"]),
    Route("/v1/products/{id}/stock-moves", move_product_stock, methods=["POST"]),
]
