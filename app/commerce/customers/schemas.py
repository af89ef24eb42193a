"""Request models for a shop's customer records."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.identity.schemas import Email, Name, Phone
from app.platform.http import Body
from app.platform.pagination import PageQuery

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class CustomerIn(Body):
    name: Name
    phone: Phone | None = None
    email: Email | None = None
    note: Note | None = Field(default=None, description="What the staff want to remember (a usual order, say)")


class CustomerPatch(Body):
    """Only the fields sent change; null clears an optional one."""

    name: Name = None  # type: ignore[assignment] - may be left out, never null
    phone: Phone | None = None
    email: Email | None = None
    note: Note | None = None


class CustomersQuery(PageQuery):
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        default=None, description="The start of the name or the e-mail, or four or more digits of the phone number"
    )
