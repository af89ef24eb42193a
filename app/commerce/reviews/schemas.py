"""Request models for reviews."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.platform.http import JSON_INTEGER, Body


class ReviewIn(Body):
    rating: Annotated[int, Field(ge=1, le=5), JSON_INTEGER]
    body: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
