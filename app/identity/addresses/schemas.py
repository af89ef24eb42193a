"""Request models for a person's saved addresses."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.identity.schemas import Name, Phone
from app.platform.http import Body

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), Field(description="ISO 3166-1 alpha-2, as IN")]


class AddressIn(Body):
    label: Label | None = Field(default=None, description="Home, Work, ...")
    name: Name
    line1: Line
    line2: Line | None = None
    city: Place
    region: Place | None = None
    postal_code: PostalCode
    country: Country
    phone: Phone | None = None
    is_default: bool = Field(default=False, description="The one used when an order names none; one at a time")


class AddressPatch(Body):
    """Only the fields sent change; null clears an optional one."""

    label: Label | None = None
    name: Name = None  # type: ignore[assignment] - may be left out, never null
    line1: Line = None  # type: ignore[assignment]
    line2: Line | None = None
    city: Place = None  # type: ignore[assignment]
    region: Place | None = None
    postal_code: PostalCode = None  # type: ignore[assignment]
    country: Country = None  # type: ignore[assignment]
    phone: Phone | None = None
    is_default: bool = None  # type: ignore[assignment]
