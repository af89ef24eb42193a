"""HTTP handlers for what reaches a person off the app: preferences, phones, and the unsubscribe link."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.identity.current import principal
from app.identity.notifications import repo, service
from app.identity.notifications.schemas import DeviceIn, PreferencesPatch
from app.platform.http import json, no_content, parse_body
from app.platform.openapi import doc
from app.platform.state import app_state

TOKEN_PARAM = {"schema": {"type": "string", "pattern": r"^[0-9a-f]{32}\.[A-Za-z0-9_-]{24}$"}}


@doc(summary="What reaches you by e-mail and push", response=repo.Preferences, tag="profile")
async def get_preferences(request: Request) -> Response:
    caller = await principal(request)
    return json(await service.preferences(app_state(request), actor=caller))


@doc(
    summary="Change what reaches you (promotions stay off until you opt in)",
    body=PreferencesPatch,
    response=repo.Preferences,
    tag="profile",
)
async def change_preferences(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, PreferencesPatch)
    return json(await service.change_preferences(app_state(request), actor=caller, data=data))


@doc(summary="Push your notifications to this phone (this session's)", body=DeviceIn, status=204, tag="profile")
async def register_my_device(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, DeviceIn)
    await service.register_device(app_state(request), actor=caller, token=data.fcm_token, platform=data.platform)
    return no_content()


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        f"<title>{html.escape(title)}</title><body style='font-family:system-ui;max-width:32rem;margin:3rem auto'>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>",
        headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
    )


@doc(
    summary="The page an unsubscribe link opens: it asks before it unsubscribes (mail scanners open links)",
    produces=["text/html"],
    auth=False,
    tag="profile",
    errors=(404,),
    path_params={"token": TOKEN_PARAM},
)
async def unsubscribe_page(request: Request) -> Response:
    await service.check_unsubscribe(app_state(request), request.path_params["token"])
    return _page(
        "Unsubscribe from promotions",
        "<p>You will no longer get promotional e-mails from the shops. News of your own orders still comes.</p>"
        "<form method=post><button type=submit>Unsubscribe</button></form>",
    )


@doc(
    summary="Unsubscribe from promotions, without signing in (also a mail client's one-click POST)",
    produces=["text/html"],
    auth=False,
    tag="profile",
    errors=(404,),
    path_params={"token": TOKEN_PARAM},
)
async def unsubscribe(request: Request) -> Response:
    await service.unsubscribe(app_state(request), request.path_params["token"])
    return _page("You are unsubscribed", "<p>No more promotional e-mails will reach you from the shops.</p>")


routes = [
    Route("/v1/me/notification-preferences", get_preferences, methods=["GET"]),
    Route("/v1/me/notification-preferences", change_preferences, methods=["PATCH"]),
    Route("/v1/me/devices", register_my_device, methods=["POST"]),
    Route("/v1/unsubscribe/{token}", unsubscribe_page, methods=["GET"]),
    Route("/v1/unsubscribe/{token}", unsubscribe, methods=["POST"]),
]
