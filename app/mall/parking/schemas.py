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
PlateStart = Annotated[
    str,
    StringConstraints(max_length=40, pattern=r"^[ .\-]*(?:[A-Za-z0-9][ .\-]*){1,15}$"),
    AfterValidator(normalise_plate),
    Field(description="1 to 15 letters and digits; case, spaces, dots and dashes do not count"),
]
Section = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Colour = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
CarNote = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class CarEntryIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"mall_id": "9b2e4d1c-7a3f-4e8b-b6c5-1d0f2a9e8c74", "plate": "KA 01 AB 1234", "section": "B2"}]
        }
    )

    mall_id: uuid.UUID
    plate: Plate
    section: Section
    colour: Colour | None = None


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


class CarIn(Body):
    """A car the parking should know before it first comes in (a tenant's, a regular's)."""

    mall_id: uuid.UUID
    plate: Plate
    colour: Colour | None = None
    note: CarNote | None = None


class CarPatch(Body):
    """Only the fields sent change; null clears them."""

    colour: Colour | None = None
    note: CarNote | None = None


class CarsQuery(PageQuery):
    """The cars a mall knows, by plate."""

    mall_id: uuid.UUID
    plate: PlateStart | None = Field(default=None, description="The plates that start with this")


class CarVisitPatch(Body):
    """A correction of a visit by the mall's admins: only the fields sent change. `exited_at` may be
    corrected on a visit that has ended, never set on one that has not (the car leaves through its exit)."""

    plate: Plate = None  # type: ignore[assignment] - may be left out, never null
    colour: Colour | None = None
    section: Section = None  # type: ignore[assignment]
    entered_at: Instant = None  # type: ignore[assignment]
    exited_at: Instant = None  # type: ignore[assignment]
