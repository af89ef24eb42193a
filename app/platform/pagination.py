"""Keyset pagination: `{"items": [...], "next_cursor": ...}` lists, ordered by (created_at, id).

A cursor is the (created_at, id) of the last item shown, base64 JSON; repositories
take it as two query parameters (`keyset`). A list sorted another way (a catalogue by
price) makes its cursors with `encode_position` and reads them with `decode_position`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, Field, StringConstraints

from app.platform.http import Unprocessable, dumps

Cursor = tuple[dt.datetime, uuid.UUID] | None


class PageQuery(BaseModel):
    """The query parameters of every list: a page size, and the cursor the last page gave."""

    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


def keyset(cursor: Cursor) -> tuple[dt.datetime | None, uuid.UUID | None]:
    """A decoded cursor as two query parameters (both NULL for the first page)."""
    return cursor if cursor is not None else (None, None)


def encode_cursor(created_at: dt.datetime, item_id: uuid.UUID) -> str:
    raw = orjson.dumps([created_at.isoformat(), str(item_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid() -> Unprocessable:
    return Unprocessable("The cursor is not valid.", code="invalid_cursor")


def decode_cursor(cursor: str | None) -> Cursor:
    """The (created_at, id) position a cursor points after; 422 if it was tampered with."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, item_id = orjson.loads(raw)
        moment = dt.datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return moment.astimezone(dt.UTC), uuid.UUID(item_id)
    except (binascii.Error, ValueError, TypeError, OverflowError, orjson.JSONDecodeError):
        raise _invalid() from None


def encode_position(*values: Any) -> str:
    """A cursor holding any JSON values (the sort, its key and the id of the last item shown, say)."""
    return base64.urlsafe_b64encode(dumps(list(values))).decode().rstrip("=")


def decode_position(cursor: str | None, *kinds: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The values of a cursor `encode_position` made, each read by its kind (int, str, uuid.UUID, a check that
    raises ValueError...); None for the first page, 422 `invalid_cursor` for anything else."""
    if not cursor:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("not a position")
        return tuple(kind(value) for kind, value in zip(kinds, values, strict=True))
    except (binascii.Error, ValueError, TypeError, OverflowError, orjson.JSONDecodeError):
        raise _invalid() from None


def instant(value: Any) -> dt.datetime:
    """A cursor's moment (ISO 8601 with its offset); ValueError for one without, as `decode_position` wants."""
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment


def sort_named(expected: str) -> Callable[[Any], str]:
    """A `decode_position` kind for a cursor's first value, the sort it was made for: another sort's
    cursor is 422 `invalid_cursor`, not a page of the wrong list."""

    def check(value: Any) -> str:
        if value != expected:
            raise ValueError("a cursor of another sort")
        return value

    return check


def page(items: Sequence[Any], limit: int, key: Any, encode: Callable[..., str] = encode_cursor) -> dict[str, Any]:
    """A list response; `items` holds up to limit+1 rows, the extra one proving there is more."""
    more = len(items) > limit
    shown = list(items[:limit])
    next_cursor = encode(*key(shown[-1])) if more and shown else None
    return {"items": shown, "next_cursor": next_cursor}
