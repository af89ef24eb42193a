"""Room names: `<type>:<uuid>` for the room types in DESIGN.md."""

from __future__ import annotations

import uuid

ROOM_TYPES = frozenset({"user", "flat", "society", "mall", "shop"})


class RoomError(ValueError):
    """Not a room name a client may use."""


def parse_room(room: object) -> tuple[str, uuid.UUID]:
    if not isinstance(room, str) or len(room) > 64:
        raise RoomError(room)
    room_type, _, raw_id = room.partition(":")
    if room_type not in ROOM_TYPES:
        raise RoomError(room)
    try:
        return room_type, uuid.UUID(raw_id)
    except ValueError:
        raise RoomError(room) from None
