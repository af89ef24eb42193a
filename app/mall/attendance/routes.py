"""HTTP handlers for attendance."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.attendance import repo, service
from app.mall.attendance.schemas import AttendanceQuery, ClockInIn
from app.platform import idempotency
from app.platform.http import json, parse_body, parse_query
from app.platform.openapi import doc
from app.platform.pagination import decode_cursor, page
from app.platform.state import app_state


@doc(
    retryable=True,
    summary="Clock in at a shop (its staff) or at the mall (its security)",
    body=ClockInIn,
    response=repo.Shift,
    status=201,
    tag="attendance",
    errors=(404, 409),
)
async def clock_in(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ClockInIn)
    status, body = await service.clock_in(
        app_state(request), actor=caller, data=data, attempt=await idempotency.attempt(request)
    )
    return json(body, status)


@doc(retryable=True, summary="Clock out of the open shift", response=repo.Shift, tag="attendance", errors=(409,))
async def clock_out(request: Request) -> Response:
    caller = await principal(request)
    status, body = await service.clock_out(app_state(request), actor=caller, attempt=await idempotency.attempt(request))
    return json(body, status)


@doc(summary="Shifts on a range of days, with minutes worked", query=AttendanceQuery, tag="attendance", errors=(404,))
async def list_attendance(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, AttendanceQuery)
    items = await service.attendance(
        app_state(request),
        actor=caller,
        mall_id=q.mall_id,
        shop_id=q.shop_id,
        user_id=q.user_id,
        first_day=q.from_,
        last_day=q.to,
        after=decode_cursor(q.cursor),
        limit=q.limit,
    )
    return json(page(items, q.limit, lambda s: (s.clock_in_at, s.id)))


routes = [
    Route("/v1/attendance/clock-in", clock_in, methods=["POST"]),
    Route("/v1/attendance/clock-out", clock_out, methods=["POST"]),
    Route("/v1/attendance", list_attendance, methods=["GET"]),
]
