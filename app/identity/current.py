"""Who is calling: the access token from the header, `x-access-token` or the sign-in cookie."""

from __future__ import annotations

from starlette.requests import Request

from app.identity import service
from app.platform.http import Unauthorized
from app.platform.security.permissions import Principal
from app.platform.state import app_state

ACCESS_COOKIE = "gh_access"
REFRESH_COOKIE = "gh_refresh"


def access_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>'.", code="invalid_token")
        return value.strip()
    return request.headers.get("x-access-token") or request.cookies.get(ACCESS_COOKIE)


async def principal(request: Request) -> Principal:
    """The authenticated caller; 401 without a live access token."""
    token = access_token(request)
    if not token:
        raise Unauthorized()
    return await service.authenticate(app_state(request), token)


async def optional_principal(request: Request) -> Principal | None:
    token = access_token(request)
    return await service.authenticate(app_state(request), token) if token else None
