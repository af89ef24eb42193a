"""HTTP handlers for resident requests."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.platform.http import json, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import decode_cursor, page
from app.platform.state import app_state
from app.society.residents import repo, service
from app.society.residents.schemas import ApprovalIn, ResidentRequestIn, ResidentRequestsQuery


@doc(
    summary="Ask to become a resident of a flat",
    body=ResidentRequestIn,
    response=repo.ResidentRequest,
    status=201,
    tag="residents",
    errors=(404, 409),
    links={"approve": "path.id", "reject": "path.id"},
)
async def create_request(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ResidentRequestIn)
    created = await service.request_to_join(
        app_state(request), actor=caller, flat_id=data.flat_id, relation=data.relation
    )
    return json(created, 201)


@doc(summary="Resident requests: a society admin's queue, or your own", query=ResidentRequestsQuery, tag="residents")
async def list_requests(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, ResidentRequestsQuery)
    items = await service.list_requests(
        app_state(request), actor=caller, status=q.status, after=decode_cursor(q.cursor), limit=q.limit
    )
    return json(page(items, q.limit, lambda r: (r.created_at, r.id)))


@doc(
    summary="Approve a resident request (society admin); the body, optional, lets the new resident see further back",
    body=ApprovalIn,
    response=repo.ResidentRequest,
    tag="residents",
    body_optional=True,
    errors=(409,),
)
async def approve(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ApprovalIn) if await request.body() else ApprovalIn()
    decided = await service.decide(
        app_state(request), actor=caller, request_id=path_uuid(request), approve=True, history_from=data.history_from
    )
    return json(decided)


@doc(summary="Reject a resident request (society admin)", response=repo.ResidentRequest, tag="residents", errors=(409,))
async def reject(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.decide(app_state(request), actor=caller, request_id=path_uuid(request), approve=False))


routes = [
    Route("/v1/resident-requests", create_request, methods=["POST"]),
    Route("/v1/resident-requests", list_requests, methods=["GET"]),
    Route("/v1/resident-requests/{id}/approve", approve, methods=["POST"]),
    Route("/v1/resident-requests/{id}/reject", reject, methods=["POST"]),
]
