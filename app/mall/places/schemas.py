"""Request models for malls and their shops."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.json_schema import WithJsonSchema

from app.identity.schemas import Phone
from app.platform.http import JSON_INTEGER, Body, read_as
from app.platform.images import ImageUrl
from app.platform.pagination import PageQuery

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Money = Annotated[int, Field(ge=0, le=10**12, description="Integer minor units of the mall's currency"), JSON_INTEGER]
ShopType = Literal["retail", "food", "cafe", "services", "entertainment", "cinema", "other"]


ZONES = sorted(zoneinfo.available_timezones())


def _known_zone(name: str) -> str:
    if name not in ZONES:
        raise ValueError("must be an IANA time zone, like Asia/Kolkata")
    return name


TimeZone = Annotated[str, AfterValidator(_known_zone), WithJsonSchema({"type": "string", "enum": ZONES})]
# A time of day on the mall's clock, to the minute.
_CLOCK = r"^(?:[01]\d|2[0-3]):[0-5]\d$"
ClockTime = Annotated[
    dt.time,
    BeforeValidator(read_as(_CLOCK, "09:30", dt.time.fromisoformat)),
    WithJsonSchema({"type": "string", "pattern": _CLOCK}),
]
FREE_MINUTES = Annotated[int, Field(ge=0, le=1440), JSON_INTEGER]


class Tariff(Body):
    """How parking is charged: the first `free_minutes` are free; past them every started hour of the
    whole stay costs `hourly_price`, and each started day at most `daily_cap` (none: no cap)."""

    free_minutes: FREE_MINUTES = 15
    hourly_price: Money = 0
    daily_cap: Money | None = None


class MallIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "City Mall",
                    "timezone": "Asia/Kolkata",
                    "parking": {"free_minutes": 15, "hourly_price": 4000, "daily_cap": 30000},
                }
            ]
        }
    )

    name: Text200
    address: Address | None = None
    timezone: TimeZone = Field(description="IANA time zone the mall's days and hours are in")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "INR"
    parking: Tariff = Field(default_factory=Tariff)


class MallPatch(Body):
    """Only the fields sent change; `address: null` clears it."""

    name: Text200 = None  # type: ignore[assignment] - may be left out, never null
    address: Address | None = None
    timezone: TimeZone = None  # type: ignore[assignment]
    parking: Tariff = None  # type: ignore[assignment]


class Hours(Body):
    """Opening hours on the mall's clock: `closes` before `opens` means after midnight, the two the
    same means open round the clock."""

    opens: ClockTime
    closes: ClockTime


class ShopIn(Body):
    mall_id: uuid.UUID
    name: Text200
    shop_type: ShopType
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    floor: Annotated[int, Field(ge=-10, le=300), JSON_INTEGER] | None = None
    hours: Hours | None = None
    phone: Phone | None = None
    image_url: ImageUrl | None = None


class ShopPatch(Body):
    """Only the fields sent change; null clears the optional ones."""

    name: Text200 = None  # type: ignore[assignment] - may be left out, never null
    shop_type: ShopType = None  # type: ignore[assignment]
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    floor: Annotated[int, Field(ge=-10, le=300), JSON_INTEGER] | None = None
    hours: Hours | None = None
    phone: Phone | None = None
    image_url: ImageUrl | None = None


class ShopsQuery(PageQuery):
    mall_id: uuid.UUID
    shop_type: ShopType | None = None
