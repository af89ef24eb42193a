"""HTTP handlers for role invitations."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity import repo as identity_repo
from app.identity.current import principal
from app.identity.invitations import repo, service
from app.identity.invitations.schemas import ClaimIn, InvitationIn
from app.identity.people.schemas import PlaceQuery
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="Invite an e-mail address or phone number with no account yet to a role; a code is sent there",
    body=InvitationIn,
    response=repo.Invitation,
    status=201,
    tag="admin",
    errors=(404, 429),
    links={"cancel_role_invitation": "path.id"},
)
async def create_role_invitation(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, InvitationIn)
    return json(await service.invite(app_state(request), actor=caller, data=data), 201)


@doc(
    summary="Invitations still waiting at a place (those who manage its people)",
    query=PlaceQuery,
    tag="admin",
    errors=(404,),
)
async def list_role_invitations(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, PlaceQuery)
    found = await service.waiting(app_state(request), actor=caller, scope_type=q.scope_type, scope_id=q.scope_id)
    return json({"items": found, "next_cursor": None})


@doc(summary="Cancel a waiting invitation", status=204, tag="admin", errors=(404, 409))
async def cancel_role_invitation(request: Request) -> Response:
    caller = await principal(request)
    await service.cancel(app_state(request), actor=caller, invitation_id=path_uuid(request))
    return no_content()


@doc(
    summary="Take up an invitation with the code it sent, from the account with that address or number",
    body=ClaimIn,
    response=identity_repo.RoleAssignment,
    tag="profile",
    errors=(404, 409, 503),
)
async def claim_role_invitation(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ClaimIn)
    return json(await service.claim(app_state(request), actor=caller, data=data))


routes = [
    Route("/v1/role-invitations", create_role_invitation, methods=["POST"]),
    Route("/v1/role-invitations", list_role_invitations, methods=["GET"]),
    Route("/v1/role-invitation-claims", claim_role_invitation, methods=["POST"]),
    Route("/v1/role-invitations/{id}", cancel_role_invitation, methods=["DELETE"]),
]
