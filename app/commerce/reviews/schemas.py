"""Request models for reviews."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.platform.http import JSON_INTEGER, Body
from app.platform.pagination import PageQuery


class ReviewIn(Body):
    rating: Annotated[int, Field(ge=1, le=5), JSON_INTEGER]
    body: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class ReviewsQuery(PageQuery):
    rating: Annotated[int, Field(ge=1, le=5)] | None = Field(default=None, description="Only reviews of this rating")
    with_text: bool | None = Field(default=None, description="true: only reviews with words; false: ratings alone")
    sort: Literal["newest", "oldest", "highest", "lowest"] = Field(
        default="newest", description="`highest` and `lowest` put the newest and the oldest first among equals"
    )
