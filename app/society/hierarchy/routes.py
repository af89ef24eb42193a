"""HTTP handlers for the society hierarchy."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.platform.http import json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import decode_cursor, page
from app.platform.state import app_state
from app.society.hierarchy import repo, service
from app.society.hierarchy.schemas import (
    BlockIn,
    BlocksQuery,
    ComplexesQuery,
    ComplexIn,
    FlatIn,
    FlatsQuery,
    SocietiesQuery,
    SocietyIn,
)


def _key(item: object) -> tuple:
    return item.created_at, item.id  # type: ignore[attr-defined]


@doc(summary="Cities that have societies", tag="society")
async def list_cities(request: Request) -> Response:
    await principal(request)
    return json({"items": await service.list_cities(app_state(request)), "next_cursor": None})


@doc(summary="Societies, optionally in one city", query=SocietiesQuery, tag="society")
async def list_societies(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, SocietiesQuery)
    items = await service.list_societies(app_state(request), city=q.city, after=decode_cursor(q.cursor), limit=q.limit)
    return json(page(items, q.limit, _key))


@doc(
    summary="Create a society (admins)",
    body=SocietyIn,
    response=repo.Society,
    status=201,
    tag="society",
    links={"list_complexes": "query.society_id", "expected_visitors": "path.society_id"},
)
async def create_society(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, SocietyIn)
    return json(await service.create_society(app_state(request), actor=caller, data=data), 201)


@doc(summary="Complexes of a society", query=ComplexesQuery, tag="society")
async def list_complexes(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, ComplexesQuery)
    items = await service.list_complexes(
        app_state(request), society_id=q.society_id, after=decode_cursor(q.cursor), limit=q.limit
    )
    return json(page(items, q.limit, _key))


@doc(
    summary="Create a complex",
    body=ComplexIn,
    response=repo.Complex,
    status=201,
    tag="society",
    errors=(404, 409),
    links={"list_blocks": "query.complex_id"},
)
async def create_complex(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ComplexIn)
    return json(await service.create_complex(app_state(request), actor=caller, data=data), 201)


@doc(summary="Blocks of a complex", query=BlocksQuery, tag="society")
async def list_blocks(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, BlocksQuery)
    items = await service.list_blocks(
        app_state(request), complex_id=q.complex_id, after=decode_cursor(q.cursor), limit=q.limit
    )
    return json(page(items, q.limit, _key))


@doc(
    summary="Create a block",
    body=BlockIn,
    response=repo.Block,
    status=201,
    tag="society",
    errors=(404, 409),
    links={"list_flats": "query.block_id"},
)
async def create_block(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, BlockIn)
    return json(await service.create_block(app_state(request), actor=caller, data=data), 201)


@doc(summary="Flats of a block", query=FlatsQuery, tag="society")
async def list_flats(request: Request) -> Response:
    await principal(request)
    q = parse_query(request, FlatsQuery)
    items = await service.list_flats(
        app_state(request), block_id=q.block_id, after=decode_cursor(q.cursor), limit=q.limit
    )
    return json(page(items, q.limit, _key))


@doc(summary="Create a flat", body=FlatIn, response=repo.Flat, status=201, tag="society", errors=(404, 409))
async def create_flat(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, FlatIn)
    return json(await service.create_flat(app_state(request), actor=caller, data=data), 201)


@doc(
    summary="One flat with its block, complex and society names (its residents, the society's admins and guards)",
    response=repo.FlatDetail,
    tag="society",
    errors=(404,),
)
async def get_flat(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.get_flat(app_state(request), actor=caller, flat_id=path_uuid(request)))


routes = [
    Route("/v1/cities", list_cities, methods=["GET"]),
    Route("/v1/societies", list_societies, methods=["GET"]),
    Route("/v1/societies", create_society, methods=["POST"]),
    Route("/v1/complexes", list_complexes, methods=["GET"]),
    Route("/v1/complexes", create_complex, methods=["POST"]),
    Route("/v1/blocks", list_blocks, methods=["GET"]),
    Route("/v1/blocks", create_block, methods=["POST"]),
    Route("/v1/flats", list_flats, methods=["GET"]),
    Route("/v1/flats", create_flat, methods=["POST"]),
    Route("/v1/flats/{id}", get_flat, methods=["GET"]),
]
