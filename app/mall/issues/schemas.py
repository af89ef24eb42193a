"""Request models for a mall's issues."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.platform.http import Body
from app.platform.images import ImageUrl
from app.platform.pagination import PageQuery

State = Literal["open", "assigned", "in_progress", "resolved", "closed", "reopened"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class IssueIn(Body):
    mall_id: uuid.UUID
    issue_type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] = Field(
        description="What kind of issue: spill, fight, broken_light, ..."
    )
    details: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
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
    mall_id: uuid.UUID
    state: State | None = None


class DetectionIn(Body):
    """What a camera saw; the same type at the same place joins the issue still open for it."""

    issue_type: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    details: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    image_url: ImageUrl | None = None


class ApiKeyIn(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] = Field(
        description="What the key is for, e.g. the camera or script that holds it"
    )
