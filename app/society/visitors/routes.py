"""HTTP handlers for visitors, visits, invites, devices and expected visitors."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.identity.notifications.schemas import DeviceIn
from app.platform import idempotency
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.pagination import decode_cursor, page
from app.platform.state import app_state
from app.society.visitors import repo, service
from app.society.visitors.schemas import (
    CheckinIn,
    CheckoutIn,
    ExpectedQuery,
    InvitePatch,
    RespondIn,
    SendInviteIn,
    VisitorIn,
    VisitorsQuery,
    VisitsQuery,
)


@doc(
    retryable=True,
    summary="Register a walk-in (guard) or invite a visitor (resident, with expected_at)",
    body=VisitorIn,
    response=repo.Visitor,
    status=201,
    tag="visitors",
    errors=(404, 409),
    links={"respond": "path.id", "send_invite": "path.id"},
)
async def create_visitor(request: Request) -> Response:
    caller = await principal(request)
    attempt = await idempotency.attempt(request)
    data = await parse_body(request, VisitorIn)
    status, body = await service.create_visitor(app_state(request), actor=caller, data=data, attempt=attempt)
    return json(body, status)


@doc(summary="Visitors the caller may see, newest first", query=VisitorsQuery, tag="visitors")
async def list_visitors(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, VisitorsQuery)
    items = await service.list_visitors(
        app_state(request),
        actor=caller,
        flat_id=q.flat_id,
        society_id=q.society_id,
        status=q.status,
        after=decode_cursor(q.cursor),
        limit=q.limit,
    )
    return json(page(items, q.limit, lambda v: (v.created_at, v.id)))


@doc(
    summary="Approve or deny a visitor (resident of the flat)",
    body=RespondIn,
    response=repo.Visitor,
    tag="visitors",
    errors=(409,),
)
async def respond(request: Request) -> Response:
    caller = await principal(request)
    visitor_id = path_uuid(request)
    data = await parse_body(request, RespondIn)
    visitor = await service.respond(
        app_state(request), actor=caller, visitor_id=visitor_id, approve=data.decision == "approve", note=data.note
    )
    return json(visitor)


@doc(
    summary="Send an invited visitor their code by SMS or WhatsApp",
    body=SendInviteIn,
    status=202,
    tag="visitors",
    errors=(409,),
)
async def send_invite(request: Request) -> Response:
    caller = await principal(request)
    visitor_id = path_uuid(request)
    data = await parse_body(request, SendInviteIn)
    outcome = await service.send_invite(app_state(request), actor=caller, visitor_id=visitor_id, channel=data.channel)
    return json({"status": outcome}, 202)


@doc(
    summary="Check a visitor in by id or invite code (guard)",
    body=CheckinIn,
    response=repo.Visit,
    status=201,
    tag="visits",
    errors=(404, 409),
)
async def check_in(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CheckinIn)
    return json(await service.check_in(app_state(request), actor=caller, data=data), 201)


@doc(summary="Check a visitor out (guard)", body=CheckoutIn, response=repo.Visit, tag="visits", errors=(404, 409))
async def check_out(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, CheckoutIn)
    return json(await service.check_out(app_state(request), actor=caller, visitor_id=data.visitor_id))


@doc(summary="Visit history, newest first", query=VisitsQuery, tag="visits")
async def list_visits(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, VisitsQuery)
    items = await service.list_visits(
        app_state(request),
        actor=caller,
        flat_id=q.flat_id,
        society_id=q.society_id,
        since=q.from_,
        until=q.to,
        after=decode_cursor(q.cursor),
        limit=q.limit,
    )
    return json(page(items, q.limit, lambda v: (v.checkin_at, v.id)))


@doc(summary="Register this phone for push alerts (guards, residents)", body=DeviceIn, status=204, tag="visitors")
async def register_device(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, DeviceIn)
    await service.register_device(app_state(request), actor=caller, token=data.fcm_token, platform=data.platform)
    return no_content()


@doc(summary="Invited visitors due on a day (guards of the society)", query=ExpectedQuery, tag="visitors")
async def expected_visitors(request: Request) -> Response:
    caller = await principal(request)
    society_id = path_uuid(request, "society_id")
    q = parse_query(request, ExpectedQuery)
    day = q.date or dt.datetime.now(dt.UTC).date()
    items = await service.expected_visitors(app_state(request), actor=caller, society_id=society_id, day=day)
    return json({"items": items, "next_cursor": None})


@doc(
    summary="Change an invitation still waiting at the gate (a resident of its flat)",
    body=InvitePatch,
    response=repo.Visitor,
    tag="visitors",
    errors=(404, 409),
)
async def update_invite(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, InvitePatch)
    return json(await service.update_invite(app_state(request), actor=caller, visitor_id=path_uuid(request), data=data))


@doc(
    summary="Cancel an invitation: its code lets nobody in from now on (a resident of its flat)",
    status=204,
    tag="visitors",
    errors=(404, 409),
)
async def cancel_invite(request: Request) -> Response:
    caller = await principal(request)
    await service.cancel_invite(app_state(request), actor=caller, visitor_id=path_uuid(request))
    return no_content()


routes = [
    Route("/v1/visitors/{id}", update_invite, methods=["PATCH"]),
    Route("/v1/visitors/{id}", cancel_invite, methods=["DELETE"]),
    Route("/v1/visitors", create_visitor, methods=["POST"]),
    Route("/v1/visitors", list_visitors, methods=["GET"]),
    Route("/v1/visitors/{id}/respond", respond, methods=["POST"]),
    Route("/v1/visitors/{id}/send-invite", send_invite, methods=["POST"]),
    Route("/v1/visits/checkin", check_in, methods=["POST"]),
    Route("/v1/visits/checkout", check_out, methods=["POST"]),
    Route("/v1/visits", list_visits, methods=["GET"]),
    Route("/v1/guards/register-device", register_device, methods=["POST"]),
    Route("/v1/society/{society_id}/expected-visitors", expected_visitors, methods=["GET"]),
]
