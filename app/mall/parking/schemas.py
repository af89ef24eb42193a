"""Request models for cars entering and leaving a mall's parking."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from app.platform.http import Body, Day, Instant
from app.platform.pagination import PageQuery

_SEPARATORS = re.compile(r"[ .\-]")


def normalise_plate(plate: str) -> str:
    """One spelling per car: `ab-12 34` and `AB1234` are the same plate."""
    return _SEPARATORS.sub("", plate).upper()


Plate = Annotated[
    str,
    StringConstraints(max_length=40, pattern=r"^[ .\-]*(?:[A-Za-z0-9][ .\-]*){2,15}$"),
    AfterValidator(normalise_plate),
    Field(description="2 to 15 letters and digits; case, spaces, dots and dashes do not count"),
]
Section = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class CarEntryIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"mall_id": "9b2e4d1c-7a3f-4e8b-b6c5-1d0f2a9e8c74", "plate": "KA 01 AB 1234", "section": "B2"}]
        }
    )

    mall_id: uuid.UUID
    plate: Plate
    section: Section
    colour: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None


class CarExitIn(Body):
    """A car leaving, named by its plate (the gate's camera or the guard reads it)."""

    mall_id: uuid.UUID
    plate: Plate


class CarVisitsQuery(PageQuery):
    mall_id: uuid.UUID
    plate: Plate | None = None
    inside: bool | None = Field(default=None, description="true: cars inside now; false: visits that ended")
    section: Section | None = None
    from_: Instant | None = Field(default=None, alias="from", description="entered at or after")
    to: Instant | None = Field(default=None, description="entered before")


class ParkingDayQuery(BaseModel):
    mall_id: uuid.UUID
    date: Day | None = Field(default=None, description="The day on the mall's clock; today when left out")
