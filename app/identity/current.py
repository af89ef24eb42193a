"""Who is calling: the access token from the header, `x-access-token` or the sign-in cookie."""

from __future__ import annotations

from starlette.requests import Request

from app.identity import service
from app.platform.http import Forbidden, Unauthorized
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


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _check_cookie_origin(request: Request) -> None:
    """A write authenticated only by the sign-in cookie must come from a page of ours: its `Origin` is this
    server or one of CORS_ORIGINS (the cookie is SameSite=strict too; this holds where that is not enough).
    Bearer and `x-access-token` clients send no cookie-borne credential, so they are not asked."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is None or (origin != own and origin not in app_state(request).settings.cors_origins):
        raise Forbidden("A write signed in by cookie must come from an allowed origin.", code="origin_refused")


async def principal(request: Request) -> Principal:
    """The authenticated caller; 401 without a live access token."""
    token = access_token(request)
    if not token:
        raise Unauthorized()
    if "authorization" not in request.headers and "x-access-token" not in request.headers:
        _check_cookie_origin(request)
    return await service.authenticate(app_state(request), token)


async def optional_principal(request: Request) -> Principal | None:
    token = access_token(request)
    return await service.authenticate(app_state(request), token) if token else None
