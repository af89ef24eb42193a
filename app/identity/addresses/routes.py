"""HTTP handlers for a person's saved addresses."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.addresses import repo, service
from app.identity.addresses.schemas import AddressIn, AddressPatch
from app.identity.current import principal
from app.platform.http import json, no_content, parse_body, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(summary="Your saved addresses, the default first", tag="profile")
async def list_addresses(request: Request) -> Response:
    caller = await principal(request)
    return json({"items": await service.listed(app_state(request), actor=caller), "next_cursor": None})


@doc(
    summary="Save an address (the first one is the default)",
    body=AddressIn,
    response=repo.Address,
    status=201,
    tag="profile",
    errors=(409,),
    links={"update_address": "path.id", "delete_address": "path.id"},
)
async def create_address(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, AddressIn)
    return json(await service.add(app_state(request), actor=caller, data=data), 201)


@doc(
    summary="Change a saved address, or make it the default",
    body=AddressPatch,
    response=repo.Address,
    tag="profile",
    errors=(404, 409),
)
async def update_address(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, AddressPatch)
    return json(await service.change(app_state(request), actor=caller, address_id=path_uuid(request), data=data))


@doc(summary="Delete a saved address (the default passes to the oldest left)", status=204, tag="profile", errors=(404,))
async def delete_address(request: Request) -> Response:
    caller = await principal(request)
    await service.remove(app_state(request), actor=caller, address_id=path_uuid(request))
    return no_content()


routes = [
    Route("/v1/addresses", list_addresses, methods=["GET"]),
    Route("/v1/addresses", create_address, methods=["POST"]),
    Route("/v1/addresses/{id}", update_address, methods=["PATCH"]),
    Route("/v1/addresses/{id}", delete_address, methods=["DELETE"]),
]
