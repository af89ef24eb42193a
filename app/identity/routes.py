"""HTTP handlers for auth, profile and role assignment: parse, authorise, call, respond."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity import repo, resets, service
from app.identity.current import ACCESS_COOKIE, REFRESH_COOKIE, optional_principal, principal
from app.identity.schemas import (
    AuthOut,
    FirebaseIn,
    LoginIn,
    LogoutIn,
    ProfileOut,
    RefreshIn,
    ResetConfirmIn,
    ResetRequestIn,
    RoleAssignmentIn,
    RoleHistoryIn,
    SignupIn,
)
from app.platform.http import Unauthorized, json, no_content, parse_body, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state


def device_of(request: Request) -> service.Device:
    """Where a sign-in comes from, kept with its session."""
    return service.Device(
        ip=request.scope["state"].get("client_ip"), user_agent=(request.headers.get("user-agent") or "")[:300] or None
    )


def auth_response(request: Request, result: service.AuthResult, status: int) -> Response:
    """A signed-in answer: the tokens in the body, and the cookies a browser keeps them in."""
    settings = app_state(request).settings
    response = json(
        {
            "user": result.user,
            "access_token": result.access_token,
            "refresh_token": result.refresh_token,
            "token_type": "Bearer",
            "expires_in": result.expires_in,
        },
        status,
    )
    common = {"httponly": True, "secure": settings.cookie_secure, "samesite": "strict"}
    response.set_cookie(ACCESS_COOKIE, result.access_token, max_age=result.expires_in, path="/", **common)
    response.set_cookie(
        REFRESH_COOKIE, result.refresh_token, max_age=settings.refresh_token_ttl, path="/v1/auth", **common
    )
    return response


async def strict_limit(request: Request) -> None:
    """The per-address limit of everything that signs in."""
    await app_state(request).limits.check_auth(request.scope["state"]["client_ip"])


@doc(
    summary="Create an account and sign in",
    body=SignupIn,
    response=AuthOut,
    status=201,
    auth=False,
    tag="auth",
    errors=(409, 503),
)
async def signup(request: Request) -> Response:
    await strict_limit(request)
    data = await parse_body(request, SignupIn)
    result = await service.signup(app_state(request), data=data, device=device_of(request))
    return auth_response(request, result, 201)


@doc(
    summary="Sign in with email or username, and password",
    body=LoginIn,
    response=AuthOut,
    auth=False,
    tag="auth",
    errors=(401, 503),
)
async def login(request: Request) -> Response:
    await strict_limit(request)
    data = await parse_body(request, LoginIn)
    result = await service.login(
        app_state(request),
        email=str(data.email) if data.email is not None else None,
        username=data.username,
        password=data.password,
        device=device_of(request),
    )
    return auth_response(request, result, 200)


@doc(
    summary="Trade a refresh token for a new pair",
    body=RefreshIn,
    response=AuthOut,
    auth=False,
    tag="auth",
    body_optional=True,
    errors=(401, 503),
)
async def refresh(request: Request) -> Response:
    await strict_limit(request)
    data = await parse_body(request, RefreshIn) if await request.body() else RefreshIn()
    token = data.refresh_token or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise Unauthorized("A refresh token is required.", code="invalid_refresh_token")
    result = await service.refresh(app_state(request), refresh_token=token)
    return auth_response(request, result, 200)


@doc(summary="End this session", body=LogoutIn, status=204, auth=False, tag="auth", body_optional=True, errors=(401,))
async def logout(request: Request) -> Response:
    data = await parse_body(request, LogoutIn) if await request.body() else LogoutIn()
    caller = await optional_principal(request)
    token = data.refresh_token or request.cookies.get(REFRESH_COOKIE)
    if caller is None and not token:
        raise Unauthorized()
    await service.logout(app_state(request), principal=caller, refresh_token=token)
    response = no_content()
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/v1/auth")
    return response


@doc(
    summary="Sign in with a Firebase ID token",
    body=FirebaseIn,
    response=AuthOut,
    auth=False,
    tag="auth",
    errors=(401, 409, 503),
)
async def firebase(request: Request) -> Response:
    await strict_limit(request)
    data = await parse_body(request, FirebaseIn)
    result = await service.firebase_sign_in(app_state(request), id_token=data.id_token, device=device_of(request))
    return auth_response(request, result, 200)


@doc(
    summary="Email a password-reset code (always 202)",
    body=ResetRequestIn,
    status=202,
    auth=False,
    tag="auth",
    errors=(503,),
)
async def reset_request(request: Request) -> Response:
    await strict_limit(request)
    data = await parse_body(request, ResetRequestIn)
    await resets.request_password_reset(app_state(request), email=str(data.email))
    return json({"status": "accepted"}, 202)


@doc(
    summary="Set a new password with the emailed code",
    body=ResetConfirmIn,
    status=204,
    auth=False,
    tag="auth",
    errors=(503,),
)
async def reset_confirm(request: Request) -> Response:
    await strict_limit(request)
    data = await parse_body(request, ResetConfirmIn)
    await resets.confirm_password_reset(
        app_state(request), email=str(data.email), code=data.code, new_password=data.new_password
    )
    return no_content()


@doc(summary="The caller, its roles and where they apply", response=ProfileOut, tag="profile")
async def me(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.profile(app_state(request), caller))


@doc(
    summary="Give a user a role on a scope",
    body=RoleAssignmentIn,
    response=repo.RoleAssignment,
    status=201,
    tag="admin",
    errors=(404,),
    also=(200,),
    links={"set_role_history": "path.id", "revoke_role": "path.id"},
)
async def grant_role(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, RoleAssignmentIn)
    assignment, created = await service.grant_role(app_state(request), actor=caller, data=data)
    return json(assignment, 201 if created else 200)


@doc(
    summary="Change how far back a role holder sees its scope's past",
    body=RoleHistoryIn,
    response=repo.RoleAssignment,
    tag="admin",
)
async def set_role_history(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, RoleHistoryIn)
    return json(
        await service.set_history_from(
            app_state(request), actor=caller, assignment_id=path_uuid(request), history_from=data.history_from
        )
    )


@doc(summary="Take a role away", status=204, tag="admin")
async def revoke_role(request: Request) -> Response:
    caller = await principal(request)
    await service.revoke_role(app_state(request), actor=caller, assignment_id=path_uuid(request))
    return no_content()


@doc(summary="Disable an account; its sessions and sockets end", status=204, tag="admin", errors=(409,))
async def disable_user(request: Request) -> Response:
    caller = await principal(request)
    await service.set_disabled(app_state(request), actor=caller, user_id=path_uuid(request), disabled=True)
    return no_content()


@doc(summary="Enable a disabled account", status=204, tag="admin")
async def enable_user(request: Request) -> Response:
    caller = await principal(request)
    await service.set_disabled(app_state(request), actor=caller, user_id=path_uuid(request), disabled=False)
    return no_content()


routes = [
    Route("/v1/auth/signup", signup, methods=["POST"]),
    Route("/v1/auth/login", login, methods=["POST"]),
    Route("/v1/auth/refresh", refresh, methods=["POST"]),
    Route("/v1/auth/logout", logout, methods=["POST"]),
    Route("/v1/auth/firebase", firebase, methods=["POST"]),
    Route("/v1/auth/password-reset/request", reset_request, methods=["POST"]),
    Route("/v1/auth/password-reset/confirm", reset_confirm, methods=["POST"]),
    Route("/v1/profile/me", me, methods=["GET"]),
    Route("/v1/admin/role-assignments", grant_role, methods=["POST"]),
    Route("/v1/admin/role-assignments/{id}", revoke_role, methods=["DELETE"]),
    Route("/v1/admin/role-assignments/{id}", set_role_history, methods=["PATCH"]),
    Route("/v1/admin/users/{id}/disable", disable_user, methods=["POST"]),
    Route("/v1/admin/users/{id}/enable", enable_user, methods=["POST"]),
]
