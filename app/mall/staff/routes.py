"""HTTP handlers for a mall's staff."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.mall.staff import service
from app.mall.staff.schemas import Employee, StaffQuery
from app.platform.http import json, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="The people holding roles at a mall and its shops, by name, and who is on shift (its admins and security)",
    query=StaffQuery,
    tag="attendance",
    errors=(404,),
)
async def list_staff(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, StaffQuery)
    return json(await service.list_staff(app_state(request), actor=caller, mall_id=path_uuid(request), q=q))


@doc(
    summary="One person on a mall's staff: photo, roles and shops, the shift they are on, the last 30 days "
    "worked (its admins and security, or the person)",
    response=Employee,
    tag="attendance",
)
async def get_employee(request: Request) -> Response:
    caller = await principal(request)
    found = await service.employee(
        app_state(request), actor=caller, mall_id=path_uuid(request), user_id=path_uuid(request, "user_id")
    )
    return json(found)


routes = [
    Route("/v1/malls/{id}/employees", list_staff, methods=["GET"]),
    Route("/v1/malls/{id}/employees/{user_id}", get_employee, methods=["GET"]),
]
