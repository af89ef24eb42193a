"""HTTP handlers for customers' visits to shops."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.shop_visits import repo, service
from app.mall.shop_visits.schemas import CounterVisitIn, QrVisitIn, VisitCode, VisitDaysQuery
from app.platform.http import json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import PageQuery, decode_cursor, page
from app.platform.state import app_state


@doc(
    summary="Check a customer in at the counter (the shop's staff); 200 when they were checked in today already",
    body=CounterVisitIn,
    response=repo.ShopVisit,
    status=201,
    also=(200,),
    tag="mall",
    errors=(404,),
)
async def counter_visit(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CounterVisitIn)
    visit, created = await service.check_in_at_counter(app_state(request), actor=caller, data=data)
    return json(visit, 201 if created else 200)


@doc(
    summary="Check in at a shop with the code its counter shows; 200 when you were checked in today already",
    body=QrVisitIn,
    response=repo.ShopVisit,
    status=201,
    also=(200,),
    tag="mall",
    errors=(404,),
)
async def qr_visit(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, QrVisitIn)
    visit, created = await service.check_in_by_code(app_state(request), actor=caller, data=data)
    return json(visit, 201 if created else 200)


@doc(summary="The shops you visited, newest first", query=PageQuery, tag="mall")
async def my_visits(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, PageQuery)
    items = await service.mine(app_state(request), actor=caller, after=decode_cursor(q.cursor), limit=q.limit)
    return json(page(items, q.limit, lambda v: (v.visited_at, v.id)))


@doc(
    summary="Today's check-in code for a shop's counter to show as a QR code (its staff)",
    response=VisitCode,
    tag="mall",
    errors=(404,),
)
async def visit_code(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.code_for_today(app_state(request), actor=caller, shop_id=path_uuid(request)))


@doc(
    summary="A shop's visits by day, with how many were first visits (its staff and the mall's admins)",
    query=VisitDaysQuery,
    tag="mall",
    errors=(404,),
)
async def visits_by_day(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, VisitDaysQuery)
    days = await service.by_day(app_state(request), actor=caller, shop_id=path_uuid(request), first=q.from_, last=q.to)
    return json({"items": days, "next_cursor": None})


routes = [
    Route("/v1/shop-visits", counter_visit, methods=["POST"]),
    Route("/v1/shop-visits/qr", qr_visit, methods=["POST"]),
    Route("/v1/shop-visits/mine", my_visits, methods=["GET"]),
    Route("/v1/shops/{id}/visit-code", visit_code, methods=["GET"]),
    Route("/v1/shops/{id}/visits", visits_by_day, methods=["GET"]),
]
