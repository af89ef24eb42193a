"""Request models for clocking in and out, and for reading attendance."""

from __future__ import annotations

import uuid

from pydantic import ConfigDict, Field

from app.platform.http import Body, Day
from app.platform.pagination import PageQuery


class ClockInIn(Body):
    """Where the shift is: `shop_id` for a shop's staff, `mall_id` for the mall's security staff."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["shop_id"], "properties": {"shop_id": {"type": "string"}}},
                {"required": ["mall_id"], "properties": {"mall_id": {"type": "string"}}},
            ]
        }
    )

    shop_id: uuid.UUID | None = None
    mall_id: uuid.UUID | None = None


class AttendanceQuery(PageQuery):
    """Shifts that began on the days `from`..`to` (inclusive, on the mall's clock), newest first."""

    mall_id: uuid.UUID
    shop_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    from_: Day | None = Field(default=None, alias="from", description="First day; 30 days ago when left out")
    to: Day | None = Field(default=None, description="Last day; today when left out")
