"""Request models for cinemas, movies, showings and tickets."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.mall.places.schemas import Hours, Money, Text200
from app.platform.http import JSON_INTEGER, Body, Day, Instant
from app.platform.images import ImageUrl
from app.platform.pagination import PageQuery
from app.platform.payments import Provider

Location = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class CinemaIn(Body):
    """A cinema is a shop of the mall of type `cinema`, with the same fields."""

    mall_id: uuid.UUID
    name: Text200
    location: Location | None = None
    floor: Annotated[int, Field(ge=-10, le=300), JSON_INTEGER] | None = None
    hours: Hours | None = None
    image_url: ImageUrl | None = None


class CinemaPatch(Body):
    """Only the fields sent change; null clears the optional ones (a cinema stays a cinema)."""

    name: Text200 = None  # type: ignore[assignment] - may be left out, never null
    location: Location | None = None
    floor: Annotated[int, Field(ge=-10, le=300), JSON_INTEGER] | None = None
    hours: Hours | None = None
    image_url: ImageUrl | None = None


class MovieIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mall_id": "9b2e4d1c-7a3f-4e8b-b6c5-1d0f2a9e8c74",
                    "name": "The Long Monsoon",
                    "duration_minutes": 142,
                    "genre": "drama",
                    "ticket_price": 25000,
                }
            ]
        }
    )

    mall_id: uuid.UUID
    name: Text200
    duration_minutes: Annotated[int, Field(ge=1, le=600), JSON_INTEGER]
    release_date: Day | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    genre: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    ticket_price: Money
    image_url: ImageUrl | None = None


class MoviePatch(Body):
    """Only the fields sent change; null clears the optional ones. A new ticket price is for showings
    scheduled from now on: each showing keeps the price it was scheduled at."""

    name: Text200 = None  # type: ignore[assignment] - may be left out, never null
    duration_minutes: Annotated[int, Field(ge=1, le=600), JSON_INTEGER] = None  # type: ignore[assignment]
    release_date: Day | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    genre: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    ticket_price: Money = None  # type: ignore[assignment]
    image_url: ImageUrl | None = None


class ShowingIn(Body):
    cinema_id: uuid.UUID
    movie_id: uuid.UUID
    starts_at: Instant
    seats: Annotated[int, Field(ge=1, le=2000), JSON_INTEGER]


class ShowingPatch(Body):
    """A new start time or seat count; never fewer seats than are sold."""

    starts_at: Instant = None  # type: ignore[assignment] - may be left out, never null
    seats: Annotated[int, Field(ge=1, le=2000), JSON_INTEGER] = None  # type: ignore[assignment]


class TicketCheckoutIn(Body):
    showing_id: uuid.UUID
    tickets: Annotated[int, Field(ge=1, le=20), JSON_INTEGER]


class TicketPaymentIn(Body):
    """A payment taken at the cinema's counter for a reservation; it must be the checkout's total."""

    method: Literal["cash", "card", "wallet"]
    amount: Annotated[int, Field(ge=1, le=10**13), JSON_INTEGER]


class TicketOnlinePaymentIn(Body):
    """The provider to pay through; left out, the first this server has configured (Stripe before Razorpay)."""

    provider: Provider | None = None


class ByMallQuery(PageQuery):
    mall_id: uuid.UUID


class ShowingsQuery(BaseModel):
    """One day's showings of a mall, or of one of its cinemas, in starting order."""

    mall_id: uuid.UUID
    cinema_id: uuid.UUID | None = None
    date: Day | None = Field(default=None, description="The day on the mall's clock; today when left out")
