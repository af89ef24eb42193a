"""Request models for a mall's issues."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.platform.http import Body, Instant
from app.platform.images import ImageUrl
from app.platform.pagination import PageQuery

State = Literal["open", "assigned", "in_progress", "resolved", "closed", "reopened"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
IssueType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class IssueIn(Body):
    mall_id: uuid.UUID
    issue_type: IssueType = Field(description="What kind of issue: spill, fight, broken_light, ...")
    details: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    shop_id: uuid.UUID | None = Field(default=None, description="The shop of the mall where it happened")
    image_url: ImageUrl | None = None


class AssignIn(Body):
    user_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=20)] = Field(
        description="Employees of the mall's shops, or its security staff"
    )
    note: Note | None = None


class MoveIn(Body):
    to: State = Field(
        description="open → assigned, in_progress or closed; assigned → in_progress or resolved; in_progress → "
        "resolved; resolved → closed or reopened; closed → reopened; reopened → assigned, in_progress or closed"
    )
    note: Note | None = None


class IssuesQuery(PageQuery):
    """Newest first; every filter given must hold."""

    mall_id: uuid.UUID
    state: State | None = None
    issue_type: IssueType | None = None
    source: Literal["staff", "customer", "model"] | None = None
    shop_id: uuid.UUID | None = None
    assignee: uuid.UUID | None = Field(default=None, description="Issues assigned to this person")
    from_: Instant | None = Field(default=None, alias="from", description="reported at or after")
    to: Instant | None = Field(default=None, description="reported before")


class DetectionIn(Body):
    """What a camera saw; the same type at the same place joins the issue still open for it."""

    issue_type: IssueType
    details: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    shop_id: uuid.UUID | None = Field(default=None, description="The shop of the key's mall the camera watches")
    image_url: ImageUrl | None = None


class ApiKeyIn(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="What the key is for, e.g. the camera or script that holds it"
    )
