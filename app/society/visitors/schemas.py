"""Request and response models for visitors and visits."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.identity.schemas import Name, Phone
from app.platform.http import Body, Day, Instant
from app.platform.pagination import PageQuery

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
InviteCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9]{6,12}$")]
VisitorStatus = Literal["pending", "accepted", "denied", "pre_approved", "checked_in", "checked_out", "cancelled"]


class VisitorIn(Body):
    """A guard registers a walk-in (no `expected_at`); a resident invites one (with `expected_at`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "flat_id": "3f6c2a9e-8d1b-4c57-9a0e-2b7d4e1f6a83",
                    "name": "Ramesh Kumar",
                    "phone": "+91 98450 12345",
                    "purpose": "delivery",
                }
            ]
        }
    )

    flat_id: uuid.UUID
    name: Name
    phone: Phone | None = None
    purpose: Note | None = None
    vehicle_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    expected_at: Instant | None = Field(
        default=None,
        description="An invitation's expected arrival, between an hour ago and 90 days ahead (else 422).",
    )


class InvitePatch(Body):
    """What the inviting flat changes of an invitation still waiting at the gate; only the fields sent."""

    name: Name = None  # type: ignore[assignment] - may be left out, never null
    phone: Phone | None = None
    purpose: Note | None = None
    vehicle_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    expected_at: Instant = Field(
        default=None,  # type: ignore[assignment] - may be left out, never null
        description="Between an hour ago and 90 days ahead (else 422).",
    )


class RespondIn(Body):
    decision: Literal["approve", "deny"]
    note: Note | None = None


class SendInviteIn(Body):
    channel: Literal["sms", "whatsapp"]


class CheckinIn(Body):
    """Exactly one of `visitor_id` (a walk-in the resident approved) and `invite_code` (an invited visitor)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["visitor_id"], "properties": {"visitor_id": {"type": "string"}}},
                {"required": ["invite_code"], "properties": {"invite_code": {"type": "string"}}},
            ]
        }
    )

    visitor_id: uuid.UUID | None = None
    invite_code: InviteCode | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CheckinIn:
        if (self.visitor_id is None) == (self.invite_code is None):
            raise ValueError("give either visitor_id or invite_code")
        return self


class CheckoutIn(Body):
    visitor_id: uuid.UUID


class VisitorsQuery(PageQuery):
    flat_id: uuid.UUID | None = None
    society_id: uuid.UUID | None = None
    status: VisitorStatus | None = None


class VisitsQuery(PageQuery):
    flat_id: uuid.UUID | None = None
    society_id: uuid.UUID | None = None
    from_: Instant | None = Field(default=None, alias="from")
    to: Instant | None = None


class ExpectedQuery(BaseModel):
    date: Day | None = Field(default=None, description="UTC date; today when omitted")
