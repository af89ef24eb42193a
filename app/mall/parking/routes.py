"""HTTP handlers for car visits and the cars a mall's parking knows."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.parking import repo, service
from app.mall.parking.schemas import (
    CarEntryIn,
    CarExitIn,
    CarIn,
    CarPatch,
    CarsQuery,
    CarVisitPatch,
    CarVisitsQuery,
    ParkingDayQuery,
)
from app.platform import idempotency
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import decode_cursor, decode_position, encode_position, page
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


@doc(summary="One car visit (the mall's security staff)", response=repo.CarVisit, tag="parking")
async def get_car_visit(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.get_visit(app_state(request), actor=caller, visit_id=path_uuid(request)))


@doc(
    summary="Correct a car visit: its plate, colour, section or times (the mall's admins; audited)",
    body=CarVisitPatch,
    response=repo.CarVisit,
    tag="parking",
    errors=(403, 409),
)
async def correct_car_visit(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CarVisitPatch)
    return json(await service.correct_visit(app_state(request), actor=caller, visit_id=path_uuid(request), data=data))


@doc(summary="Delete a car visit recorded by mistake (the mall's admins; audited)", status=204, tag="parking")
async def delete_car_visit(request: Request) -> Response:
    caller = await principal(request)
    await service.delete_visit(app_state(request), actor=caller, visit_id=path_uuid(request))
    return no_content()


@doc(
    summary="Add a car to the mall's registry before it first comes in (security)",
    body=CarIn,
    response=repo.Car,
    status=201,
    tag="parking",
    errors=(404, 409),
)
async def add_car(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CarIn)
    return json(await service.add_car(app_state(request), actor=caller, data=data), 201)


@doc(summary="The cars a mall knows, by plate; a car entering is added (security)", query=CarsQuery, tag="parking")
async def list_cars(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, CarsQuery)
    after = decode_position(q.cursor, str)
    items = await service.list_cars(
        app_state(request), actor=caller, mall_id=q.mall_id, plate=q.plate, after=after and after[0], limit=q.limit
    )
    return json(page(items, q.limit, lambda car: (car.plate,), encode_position))


@doc(summary="One car the mall knows, and its visit if it is inside (security)", response=repo.Car, tag="parking")
async def get_car(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.get_car(app_state(request), actor=caller, car_id=path_uuid(request)))


@doc(summary="Change a car's colour or note (security)", body=CarPatch, response=repo.Car, tag="parking")
async def change_car(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CarPatch)
    return json(await service.change_car(app_state(request), actor=caller, car_id=path_uuid(request), data=data))


@doc(summary="Forget a car that is not inside (security); its visits stay", status=204, tag="parking", errors=(409,))
async def remove_car(request: Request) -> Response:
    caller = await principal(request)
    await service.remove_car(app_state(request), actor=caller, car_id=path_uuid(request))
    return no_content()


routes = [
    Route("/v1/car-visits/day", parking_day, methods=["GET"]),
    Route("/v1/car-visits", enter_car, methods=["POST"]),
    Route("/v1/car-visits", list_car_visits, methods=["GET"]),
    Route("/v1/car-visits/exit", exit_car_by_plate, methods=["POST"]),
    Route("/v1/car-visits/{id}/exit", exit_car, methods=["POST"]),
    Route("/v1/car-visits/{id:uuid}", get_car_visit, methods=["GET"]),
    Route("/v1/car-visits/{id:uuid}", correct_car_visit, methods=["PATCH"]),
    Route("/v1/car-visits/{id:uuid}", delete_car_visit, methods=["DELETE"]),
    Route("/v1/cars", add_car, methods=["POST"]),
    Route("/v1/cars", list_cars, methods=["GET"]),
    Route("/v1/cars/{id}", get_car, methods=["GET"]),
    Route("/v1/cars/{id}", change_car, methods=["PATCH"]),
    Route("/v1/cars/{id}", remove_car, methods=["DELETE"]),
]
