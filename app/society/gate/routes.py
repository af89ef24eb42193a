"""HTTP handlers for gate devices, guards' PINs and signing in on a device."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.identity.current import principal
from app.identity.routes import auth_response, device_of, strict_limit
from app.identity.schemas import AuthOut
from app.platform.http import json, no_content, parse_body, path_uuid
from app.platform.openapi import doc
from app.platform.state import app_state
from app.society.gate import service
from app.society.gate.schemas import DeviceCallIn, GateDeviceIn, GuardPatch, PinIn, PinSignInIn


@doc(
    summary="Register a gate device; its secret is in this answer only (the society's admins)",
    body=GateDeviceIn,
    response=service.RegisteredDevice,
    status=201,
    tag="gate",
    errors=(404,),
    links={"revoke_gate_device": "path.id"},
)
async def register_gate_device(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, GateDeviceIn)
    return json(await service.register(app_state(request), actor=caller, society_id=path_uuid(request), data=data), 201)


@doc(summary="A society's gate devices (its admins)", tag="gate", errors=(404,))
async def list_gate_devices(request: Request) -> Response:
    caller = await principal(request)
    found = await service.devices(app_state(request), actor=caller, society_id=path_uuid(request))
    return json({"items": found, "next_cursor": None})


@doc(
    summary="Revoke a gate device: nobody signs in on it any more (the society's admins)",
    status=204,
    tag="gate",
    errors=(404,),
)
async def revoke_gate_device(request: Request) -> Response:
    caller = await principal(request)
    await service.revoke(app_state(request), actor=caller, device_id=path_uuid(request))
    return no_content()


@doc(
    summary="Set a guard's 6-digit PIN for the society's gate devices (its admins)",
    body=PinIn,
    status=204,
    tag="gate",
    errors=(404,),
)
async def set_guard_pin(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, PinIn)
    await service.set_pin(
        app_state(request),
        actor=caller,
        society_id=path_uuid(request),
        user_id=path_uuid(request, "user_id"),
        data=data,
    )
    return no_content()


@doc(
    summary="The guards a gate device offers to sign in (the device, with its secret)",
    body=DeviceCallIn,
    auth=False,
    tag="gate",
    errors=(401,),
)
async def gate_roster(request: Request) -> Response:
    await strict_limit(request)
    data = await parse_body(request, DeviceCallIn)
    found = await service.roster(app_state(request), device_id=path_uuid(request), data=data)
    return json({"items": found, "next_cursor": None})


@doc(
    summary="A guard signs in on a gate device with their PIN",
    body=PinSignInIn,
    response=AuthOut,
    auth=False,
    tag="gate",
    errors=(401, 403, 503),
)
async def gate_sign_in(request: Request) -> Response:
    await strict_limit(request)
    data = await parse_body(request, PinSignInIn)
    result = await service.sign_in(
        app_state(request), device_id=path_uuid(request), data=data, device=device_of(request)
    )
    return auth_response(request, result, 200)


@doc(
    summary="A society's guards with the gate each works at and whether they have a PIN (its admins)",
    tag="gate",
    errors=(404,),
)
async def list_guards(request: Request) -> Response:
    caller = await principal(request)
    found = await service.guards(app_state(request), actor=caller, society_id=path_uuid(request))
    return json({"items": found, "next_cursor": None})


@doc(
    summary="Post a guard at a gate (the society's admins)",
    body=GuardPatch,
    response=service.Guard,
    tag="gate",
    errors=(404,),
)
async def update_guard(request: Request) -> Response:
    caller = await principal(request)
    data = await parse_body(request, GuardPatch)
    return json(
        await service.post_guard(
            app_state(request),
            actor=caller,
            society_id=path_uuid(request),
            user_id=path_uuid(request, "user_id"),
            data=data,
        )
    )


routes = [
    Route("/v1/societies/{id}/guards", list_guards, methods=["GET"]),
    Route("/v1/societies/{id}/guards/{user_id}", update_guard, methods=["PATCH"]),
    Route("/v1/societies/{id}/gate-devices", register_gate_device, methods=["POST"]),
    Route("/v1/societies/{id}/gate-devices", list_gate_devices, methods=["GET"]),
    Route("/v1/gate-devices/{id}", revoke_gate_device, methods=["DELETE"]),
    Route("/v1/societies/{id}/guards/{user_id}/pin", set_guard_pin, methods=["PUT"]),
    Route("/v1/gate-devices/{id}/roster", gate_roster, methods=["POST"]),
    Route("/v1/gate-devices/{id}/sign-in", gate_sign_in, methods=["POST"]),
]
