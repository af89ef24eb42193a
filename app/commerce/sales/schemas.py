"""Query of a shop's sales view."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.platform.http import Day


class SalesQuery(BaseModel):
    from_: Day | None = Field(
        default=None, alias="from", description="First day (the mall's clock); 30 days ago when left out"
    )
    to: Day | None = Field(default=None, description="Last day; today when left out")
