"""Request and response models for residents asking to join a flat."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.identity.schemas import HISTORY_FROM
from app.platform.http import Body, Instant

RequestStatus = Literal["pending", "approved", "rejected"]


class ResidentRequestIn(Body):
    flat_id: uuid.UUID
    relation: Literal["owner", "tenant"]


class ResidentRequestsQuery(BaseModel):
    status: RequestStatus | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class ApprovalIn(Body):
    history_from: Instant | None = Field(default=None, description=HISTORY_FROM)
