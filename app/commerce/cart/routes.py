"""HTTP handlers for the caller's cart."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.cart import service
from app.commerce.cart.schemas import CartItemIn, CartItemPatch, CartQuery
from app.identity.current import principal
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="Your cart at a shop, with today's prices",
    query=CartQuery,
    response=service.Cart,
    tag="cart",
    errors=(404,),
)
async def get_cart(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, CartQuery)
    return json(await service.cart(app_state(request), actor=caller, shop_id=q.shop_id))


@doc(summary="Empty your cart at a shop", query=CartQuery, status=204, tag="cart")
async def clear_cart(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, CartQuery)
    await service.clear(app_state(request), actor=caller, shop_id=q.shop_id)
    return no_content()


@doc(
    summary="Add a product with its choices (the same choice again adds to its line)",
    body=CartItemIn,
    response=service.Cart,
    tag="cart",
    errors=(409,),
)
async def add_to_cart(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CartItemIn)
    return json(await service.add(app_state(request), actor=caller, data=data))


@doc(summary="Change how many of a line", body=CartItemPatch, response=service.Cart, tag="cart")
async def update_cart_item(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CartItemPatch)
    cart = await service.set_quantity(
        app_state(request), actor=caller, line_id=path_uuid(request), quantity=data.quantity
    )
    return json(cart)


@doc(summary="Take a line out of your cart", response=service.Cart, tag="cart")
async def remove_cart_item(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.remove(app_state(request), actor=caller, line_id=path_uuid(request)))


routes = [
    Route("/v1/cart", get_cart, methods=["GET"]),
    Route("/v1/cart", clear_cart, methods=["DELETE"]),
    Route("/v1/cart/items", add_to_cart, methods=["POST"]),
    Route("/v1/cart/items/{id}", update_cart_item, methods=["PATCH"]),
    Route("/v1/cart/items/{id}", remove_cart_item, methods=["DELETE"]),
]
