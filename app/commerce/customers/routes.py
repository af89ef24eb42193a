"""HTTP handlers for a shop's customer records."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.commerce.customers import repo, service
from app.commerce.customers.schemas import CustomerIn, CustomerPatch, CustomersQuery
from app.identity.current import principal
from app.platform.http import json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="Keep a customer who has no account (the shop's staff)",
    body=CustomerIn,
    response=repo.Customer,
    status=201,
    tag="orders",
    errors=(404, 409),
    links={"get_customer": "path.customer_id", "update_customer": "path.customer_id"},
)
async def create_customer(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CustomerIn)
    return json(await service.add(app_state(request), actor=caller, shop_id=path_uuid(request), data=data), 201)


@doc(
    summary="The shop's customer records by name, or found by name, e-mail or phone",
    query=CustomersQuery,
    tag="orders",
    errors=(404,),
)
async def list_customers(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, CustomersQuery)
    return json(await service.listed(app_state(request), actor=caller, shop_id=path_uuid(request), q=q))


@doc(
    summary="One customer record with its points (its orders: GET /v1/orders?shop_customer_id=)",
    response=repo.Customer,
    tag="orders",
    errors=(404,),
)
async def get_customer(request: Request) -> Response:
    caller = await principal(request)
    found = await service.get(
        app_state(request), actor=caller, shop_id=path_uuid(request), customer_id=path_uuid(request, "customer_id")
    )
    return json(found)


@doc(summary="Change a customer record", body=CustomerPatch, response=repo.Customer, tag="orders", errors=(404, 409))
async def update_customer(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CustomerPatch)
    changed = await service.change(
        app_state(request),
        actor=caller,
        shop_id=path_uuid(request),
        customer_id=path_uuid(request, "customer_id"),
        data=data,
    )
    return json(changed)


@doc(
    summary="Link a record to the account with its e-mail or phone: its orders and points go there",
    response=repo.Customer,
    tag="orders",
    errors=(404, 409),
)
async def link_customer(request: Request) -> Response:
    caller = await principal(request)
    linked = await service.link(
        app_state(request), actor=caller, shop_id=path_uuid(request), customer_id=path_uuid(request, "customer_id")
    )
    return json(linked)


routes = [
    Route("/v1/shops/{id}/customers", create_customer, methods=["POST"]),
    Route("/v1/shops/{id}/customers", list_customers, methods=["GET"]),
    Route("/v1/shops/{id}/customers/{customer_id}", get_customer, methods=["GET"]),
    Route("/v1/shops/{id}/customers/{customer_id}", update_customer, methods=["PATCH"]),
    Route("/v1/shops/{id}/customers/{customer_id}/link", link_customer, methods=["POST"]),
]
