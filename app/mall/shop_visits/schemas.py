"""Request models for customers' visits to shops."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.platform.http import Body, Day


class CounterVisitIn(Body):
    """A customer checked in at the counter by the shop's staff."""

    shop_id: uuid.UUID
    user_id: uuid.UUID = Field(description="The customer's account")


class QrVisitIn(Body):
    """A customer checking in by scanning the code the counter shows."""

    code: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class VisitDaysQuery(BaseModel):
    """Days `from`..`to` (inclusive, on the mall's clock), at most 366 of them."""

    from_: Day | None = Field(default=None, alias="from", description="First day; 29 days before `to` when left out")
    to: Day | None = Field(default=None, description="Last day; today when left out")


@dataclass(frozen=True, slots=True)
class VisitCode:
    """What the counter shows as a QR code today: customers scan it to check in. It works until the end
    of the day on the mall's clock, and a new one is made each day."""

    shop_id: uuid.UUID
    code: str
    day: dt.date
    valid_until: dt.datetime
