"""HTTP handlers for a shop's inventory and its products' recipes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.inventory import repo, service
from app.commerce.inventory.schemas import ItemIn, ItemPatch, RecipeIn, StockMoveIn
from app.identity.current import principal
from app.platform.http import json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import PageQuery
from app.platform.state import app_state


@doc(summary="A shop's inventory (its staff)", tag="inventory")
async def list_inventory(request: Request) -> Response:
    caller = await principal(request)
    found = await service.items(app_state(request), actor=caller, shop_id=path_uuid(request))
    return json({"items": found, "next_cursor": None})


@doc(
    summary="Add an item to the inventory (the shop's managers)",
    body=ItemIn,
    response=repo.Item,
    status=201,
    tag="inventory",
    errors=(409,),
)
async def create_inventory_item(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ItemIn)
    return json(await service.create_item(app_state(request), actor=caller, shop_id=path_uuid(request), data=data), 201)


@doc(
    summary="Rename an item, or change its threshold or supplier",
    body=ItemPatch,
    response=repo.Item,
    tag="inventory",
    errors=(409,),
)
async def update_inventory_item(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ItemPatch)
    item = await service.update_item(
        app_state(request), actor=caller, shop_id=path_uuid(request), item_id=path_uuid(request, "item_id"), data=data
    )
    return json(item)


@doc(
    summary="Restock, waste (the shop's staff) or correct after a count (its managers)",
    body=StockMoveIn,
    response=repo.Item,
    tag="inventory",
    errors=(409,),
)
async def move_stock(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, StockMoveIn)
    item = await service.move(
        app_state(request), actor=caller, shop_id=path_uuid(request), item_id=path_uuid(request, "item_id"), data=data
    )
    return json(item)


@doc(summary="An item's ledger, newest first", query=PageQuery, tag="inventory")
async def list_stock_moves(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, PageQuery)
    found = await service.moves(
        app_state(request),
        actor=caller,
        shop_id=path_uuid(request),
        item_id=path_uuid(request, "item_id"),
        cursor=q.cursor,
        limit=q.limit,
    )
    return json(found)


@doc(summary="What one unit of a product uses (the shop's staff)", tag="inventory")
async def get_recipe(request: Request) -> Response:
    caller = await principal(request)
    lines = await service.recipe(app_state(request), actor=caller, product_id=path_uuid(request))
    return json({"items": lines, "next_cursor": None})


@doc(
    summary="Set what one unit of a product, and each option, uses (the shop's managers)",
    body=RecipeIn,
    tag="inventory",
)
async def set_recipe(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, RecipeIn)
    lines = await service.set_recipe(app_state(request), actor=caller, product_id=path_uuid(request), data=data)
    return json({"items": lines, "next_cursor": None})


routes = [
    Route("/v1/shops/{id}/inventory", list_inventory, methods=["GET"]),
    Route("/v1/shops/{id}/inventory", create_inventory_item, methods=["POST"]),
    Route("/v1/shops/{id}/inventory/{item_id}", update_inventory_item, methods=["PATCH"]),
    Route("/v1/shops/{id}/inventory/{item_id}/moves", move_stock, methods=["POST"]),
    Route("/v1/shops/{id}/inventory/{item_id}/moves", list_stock_moves, methods=["GET"]),
    Route("/v1/products/{id}/recipe", get_recipe, methods=["GET"]),
    Route("/v1/products/{id}/recipe", set_recipe, methods=["PUT"]),
]
