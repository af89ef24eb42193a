"""Request models for inviting someone without an account to a role, and for taking it up."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from app.identity.schemas import HISTORY_FROM, Email, Phone, RoleName, ScopeTypeName
from app.platform.http import Body, Instant

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z2-9]{8}$")]


class InvitationIn(Body):
    """Exactly one of `email` (the code goes by e-mail) and `phone` (by SMS), and the role waiting."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
                {"required": ["phone"], "properties": {"phone": {"type": "string"}}},
            ]
        }
    )

    email: Email | None = None
    phone: Phone | None = None
    role: RoleName
    scope_type: ScopeTypeName
    scope_id: uuid.UUID
    history_from: Instant | None = Field(default=None, description=HISTORY_FROM)

    @model_validator(mode="after")
    def _one_of(self) -> InvitationIn:
        if (self.email is None) == (self.phone is None):
            raise ValueError("give either email or phone")
        return self


class ClaimIn(Body):
    code: Code = Field(description="The code the invitation sent")
