"""The AsyncAPI document of the Socket.IO contract, built from what the modules declare: a channel per
room type, the events each one carries with their payloads (the same schemas the OpenAPI document
names), and the events a client sends with the acknowledgements it gets back.

Every event is an envelope `{event_id, type, room, at, data}`; `data` is the resource as the HTTP API
returns it. Refusals carry the HTTP error envelope: `{ok: false, error: {code, message}}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter

from app.platform.modules import EventType
from app.platform.openapi import REF, EdgeSchema, add_schema
from app.platform.realtime.rooms import USER

ASYNC_REF = "#/components/schemas/{model}"
_REFUSAL = {
    "type": "object",
    "properties": {
        "ok": {"const": False},
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "enum": ["bad_request", "forbidden", "rate_limited", "unauthorized", "token_expired", "unavailable"]
                },
                "message": {"type": "string"},
            },
            "required": ["code", "message"],
        },
    },
    "required": ["ok", "error"],
}
_ROOM_NAME = {"type": "string", "pattern": r"^[a-z_]+:[0-9a-f-]{36}$", "description": "`<room type>:<id>`"}
# What a client sends, and what its acknowledgement holds when it succeeds.
_CLIENT_EVENTS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "join_room": (
        "Listen to a room the caller's roles open",
        {
            "type": "object",
            "properties": {"room_type": {"type": "string"}, "room_id": {"type": "string", "format": "uuid"}},
            "required": ["room_type", "room_id"],
        },
        {"type": "object", "properties": {"ok": {"const": True}, "room": _ROOM_NAME}, "required": ["ok", "room"]},
    ),
    "leave_room": (
        "Stop listening to a room",
        {
            "type": "object",
            "properties": {"room_type": {"type": "string"}, "room_id": {"type": "string", "format": "uuid"}},
            "required": ["room_type", "room_id"],
        },
        {"type": "object", "properties": {"ok": {"const": True}, "room": _ROOM_NAME}, "required": ["ok", "room"]},
    ),
    "sync": (
        "Replay a room's events after `since` (absent or null: from the oldest kept), a page at a time",
        {
            "type": "object",
            "properties": {"room": _ROOM_NAME, "since": {"type": ["integer", "null"], "minimum": 0}},
            "required": ["room"],
        },
        {
            "type": "object",
            "properties": {
                "ok": {"const": True},
                "room": _ROOM_NAME,
                "events": {"type": "array", "items": {"$ref": ASYNC_REF.format(model="AnyEvent")}},
                "more": {"type": "boolean"},
            },
            "required": ["ok", "room", "events", "more"],
        },
    ),
    "auth": (
        "Hand the socket a fresh access token for the same user before the old one runs out",
        {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]},
        {
            "type": "object",
            "properties": {"ok": {"const": True}, "expires_in": {"type": "integer"}},
            "required": ["ok", "expires_in"],
        },
    ),
}


def envelope(event: EventType, data_ref: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "event_id": {"type": "integer", "minimum": 1, "description": "Strictly increasing; drop one seen before"},
            "type": {"const": event.name},
            "room": _ROOM_NAME,
            "at": {"type": "string", "format": "date-time"},
            "data": data_ref,
        },
        "required": ["event_id", "type", "room", "at", "data"],
    }


def build(events: Iterable[EventType], room_types: Iterable[str], *, title: str, version: str) -> dict[str, Any]:
    events = list(events)
    rooms = [USER, *sorted(room_types)]
    schemas: dict[str, Any] = {"Refusal": _REFUSAL}
    messages: dict[str, Any] = {}
    for event in events:
        unknown = set(event.rooms) - set(rooms)
        if unknown:
            raise ValueError(f"event {event.name} goes to undeclared room types {sorted(unknown)}")
        data = TypeAdapter(event.payload).json_schema(ref_template=REF, schema_generator=EdgeSchema)
        for name, sub in data.pop("$defs", {}).items():
            add_schema(schemas, name, sub)
        add_schema(schemas, event.payload.__name__, data)
        schemas[f"{event.name}_event"] = envelope(event, {"$ref": ASYNC_REF.format(model=event.payload.__name__)})
        messages[event.name] = {
            "name": event.name,
            "summary": event.summary,
            "payload": {"$ref": ASYNC_REF.format(model=f"{event.name}_event")},
        }
    schemas["AnyEvent"] = {"oneOf": [{"$ref": ASYNC_REF.format(model=f"{e.name}_event")} for e in events]}
    channels: dict[str, Any] = {
        room: {
            "address": f"{room}:{{id}}",
            "parameters": {"id": {"description": f"The {room}'s id"}},
            "messages": {e.name: {"$ref": f"#/components/messages/{e.name}"} for e in events if room in e.rooms},
        }
        for room in rooms
    }
    channels["socket"] = {"address": "/socket.io/", "messages": {}}
    operations: dict[str, Any] = {
        f"receive_{e.name}": {
            "action": "receive",
            "summary": e.summary,
            "channel": {"$ref": f"#/channels/{room}"},
            "messages": [{"$ref": f"#/channels/{room}/messages/{e.name}"}],
        }
        for e in events
        for room in e.rooms[:1]
    }
    for name, (summary, request, ack) in _CLIENT_EVENTS.items():
        schemas[f"{name}_request"] = request
        schemas[f"{name}_ack"] = {"oneOf": [ack, {"$ref": ASYNC_REF.format(model="Refusal")}]}
        messages[name] = {"name": name, "payload": {"$ref": ASYNC_REF.format(model=f"{name}_request")}}
        messages[f"{name}_ack"] = {
            "name": f"{name} acknowledgement",
            "payload": {"$ref": ASYNC_REF.format(model=f"{name}_ack")},
        }
        channels["socket"]["messages"][name] = {"$ref": f"#/components/messages/{name}"}
        channels["socket"]["messages"][f"{name}_ack"] = {"$ref": f"#/components/messages/{name}_ack"}
        operations[name] = {
            "action": "send",
            "summary": summary,
            "channel": {"$ref": "#/channels/socket"},
            "messages": [{"$ref": f"#/channels/socket/messages/{name}"}],
            "reply": {"messages": [{"$ref": f"#/channels/socket/messages/{name}_ack"}]},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": version,
            "description": __doc__.split("\n\n", 1)[1].strip(),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
