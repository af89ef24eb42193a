"""HTTP handlers for people: admins' user management, and a person's own account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.identity.people import repo, service
from app.identity.people.schemas import HoldersQuery, PasswordChangeIn, ProfilePatch, UserPatch, UsersQuery
from app.platform.http import json, no_content, parse_body, parse_query, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


@doc(
    summary="Find accounts by name, e-mail, username or phone, and by role (admins)",
    query=UsersQuery,
    tag="admin",
)
async def list_users(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, UsersQuery)
    return json(await service.find(app_state(request), actor=caller, q=q))


@doc(summary="One account with its roles (admins, or its owner)", response=repo.Person, tag="admin", errors=(404,))
async def get_user(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.get(app_state(request), actor=caller, user_id=path_uuid(request)))


@doc(
    summary="Change an account: name, phone, photo, username, disabled (admins)",
    body=UserPatch,
    response=repo.Person,
    tag="admin",
    errors=(404, 409),
)
async def update_user(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, UserPatch)
    return json(await service.change(app_state(request), actor=caller, user_id=path_uuid(request), data=data))


@doc(
    summary="Delete an account: its personal data is erased, its orders, visits and audit rows stay (admins)",
    status=204,
    tag="admin",
    errors=(404, 409),
)
async def delete_user(request: Request) -> Response:
    caller = await principal(request)
    await service.delete(app_state(request), actor=caller, user_id=path_uuid(request))
    return no_content()


@doc(
    summary="Change your name, phone, photo or username",
    body=ProfilePatch,
    response=repo.Person,
    tag="profile",
    errors=(409,),
)
async def update_me(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, ProfilePatch)
    return json(await service.change_own(app_state(request), actor=caller, data=data))


@doc(
    summary="Change your password with the current one; your other sessions end",
    body=PasswordChangeIn,
    status=204,
    tag="profile",
    errors=(401, 403, 503),
    reasons={401: "The current password is wrong", 403: "The account signs in without a password"},
)
async def change_password(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, PasswordChangeIn)
    await service.change_password(app_state(request), actor=caller, data=data)
    return no_content()


@doc(
    summary="Who holds roles on a place or the places inside it, with their names (admins and its scope admins)",
    query=HoldersQuery,
    tag="admin",
    errors=(404,),
)
async def list_role_holders(request: Request) -> Response:
    caller = await principal(request)
    q = parse_query(request, HoldersQuery)
    return json(await service.holders(app_state(request), actor=caller, q=q))


routes = [
    Route("/v1/role-assignments", list_role_holders, methods=["GET"]),
    Route("/v1/users", list_users, methods=["GET"]),
    Route("/v1/users/{id}", get_user, methods=["GET"]),
    Route("/v1/users/{id}", update_user, methods=["PATCH"]),
    Route("/v1/users/{id}", delete_user, methods=["DELETE"]),
    Route("/v1/profile/me", update_me, methods=["PATCH"]),
    Route("/v1/profile/me/password", change_password, methods=["POST"]),
]
