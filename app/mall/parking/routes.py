"""HTTP handlers for car visits."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.parking import repo, service
from app.mall.parking.schemas import CarEntryIn, CarExitIn, CarVisitsQuery, ParkingDayQuery
from app.platform import idempotency
from app.platform.http import json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import decode_cursor, page
from app.platform.state import app_state


@doc(
    retryable=True,
    summary="A car enters (security)",
    body=CarEntryIn,
    response=repo.CarVisit,
    status=201,
    tag="parking",
    errors=(404, 409),
    links={"exit_car": "path.id"},
)
async def enter_car(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CarEntryIn)
    status, body = await service.enter(
        app_state(request),
        actor=caller,
        data=data,
        attempt=await idempotency.attempt(request),
    )
    return json(body, status)


@doc(
    retryable=True,
    summary="The car of a visit leaves and pays (security)",
    response=repo.CarVisit,
    tag="parking",
    errors=(409,),
)
async def exit_car(request: Request) -> Response:
    caller = await principal(request)
    status, body = await service.exit_by_id(
        app_state(request), actor=caller, visit_id=path_uuid(request), attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(
    retryable=True,
    summary="A car leaves by its plate and pays (security)",
    body=CarExitIn,
    response=repo.CarVisit,
    tag="parking",
    errors=(404, 409),
)
async def exit_car_by_plate(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CarExitIn)
    status, body = await service.exit_by_plate(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(summary="Car visits of a mall, newest first: inside now, by plate, by time", query=CarVisitsQuery, tag="parking")
async def list_car_visits(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, CarVisitsQuery)
    items = await service.list_visits(
        app_state(request),
        actor=caller,
        mall_id=q.mall_id,
        plate=q.plate,
        inside=q.inside,
        section=q.section,
        since=q.from_,
        until=q.to,
        after=decode_cursor(q.cursor),
        limit=q.limit,
    )
    return json(page(items, q.limit, lambda v: (v.entered_at, v.id)))


@doc(
    summary="A day of a mall's parking: cars inside now, entries, exits and revenue (security)",
    query=ParkingDayQuery,
    response=repo.ParkingDay,
    tag="parking",
    errors=(404,),
)
async def parking_day(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, ParkingDayQuery)
    return json(await service.parking_day(app_state(request), actor=caller, mall_id=q.mall_id, date=q.date))


routes = [
    Route("/v1/car-visits/day", parking_day, methods=["GET"]),
    Route("/v1/car-visits", enter_car, methods=["POST"]),
    Route("/v1/car-visits", list_car_visits, methods=["GET"]),
    Route("/v1/car-visits/exit", exit_car_by_plate, methods=["POST"]),
    Route("/v1/car-visits/{id}/exit", exit_car, methods=["POST"]),
]
