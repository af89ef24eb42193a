"""Room names, built and read in one place: `<type>:<uuid>`.

The platform owns `user:<id>` (each socket is in its user's room); domains
declare the other room types (`RoomType`) and build their names with `room()`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

USER = "user"


class RoomError(ValueError):
    """Not a room name a client may use."""


def room(room_type: str, room_id: uuid.UUID) -> str:
    return f"{room_type}:{room_id}"


def user_room(user_id: uuid.UUID) -> str:
    return room(USER, user_id)


def parse_room(name: object, room_types: Collection[str]) -> tuple[str, uuid.UUID]:
    """(type, id) of a room name whose type is `user` or one of `room_types`; RoomError otherwise."""
    if not isinstance(name, str) or len(name) > 64:
        raise RoomError(name)
    room_type, _, raw_id = name.partition(":")
    if room_type != USER and room_type not in room_types:
        raise RoomError(name)
    try:
        return room_type, uuid.UUID(raw_id)
    except ValueError:
        raise RoomError(name) from None
