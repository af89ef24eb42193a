"""The society domain's room names: who hears about a flat, and who works its gate."""

from __future__ import annotations

import uuid

from app.platform.realtime.rooms import room

FLAT = "flat"
SOCIETY = "society"


def flat_room(flat_id: uuid.UUID) -> str:
    return room(FLAT, flat_id)


def society_room(society_id: uuid.UUID) -> str:
    return room(SOCIETY, society_id)
