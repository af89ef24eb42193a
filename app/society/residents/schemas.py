"""Request and response models for residents asking to join a flat."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from app.identity.schemas import HISTORY_FROM
from app.platform.http import Body, Instant
from app.platform.pagination import PageQuery

RequestStatus = Literal["pending", "approved", "rejected"]


class ResidentRequestIn(Body):
    flat_id: uuid.UUID
    relation: Literal["owner", "tenant"]


class ResidentRequestsQuery(PageQuery):
    status: RequestStatus | None = None


class ApprovalIn(Body):
    history_from: Instant | None = Field(default=None, description=HISTORY_FROM)
