"""Request models for a mall's offers."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from app.mall.places.schemas import Text200
from app.platform.http import JSON_INTEGER, Body, Instant
from app.platform.pagination import PageQuery


class OfferIn(Body):
    """A discount at one or more of a mall's shops, from `starts_at` to `ends_at` (which must be later)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "mall_id": "9b2e4d1c-7a3f-4e8b-b6c5-1d0f2a9e8c74",
                    "title": "Monsoon sale",
                    "discount_percent": 20,
                    "starts_at": "2026-12-01T10:00:00+05:30",
                    "ends_at": "2026-12-08T22:00:00+05:30",
                    "shop_ids": ["3f6c2a9e-8d1b-4c57-9a0e-2b7d4e1f6a83"],
                }
            ]
        }
    )

    mall_id: uuid.UUID
    title: Text200
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    discount_percent: Annotated[int, Field(ge=1, le=100), JSON_INTEGER]
    starts_at: Instant
    ends_at: Instant = Field(description="Later than starts_at (else 422)")
    shop_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _ends_after_start(self) -> OfferIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be later than starts_at")
        return self


class OfferPatch(Body):
    """Only the fields sent change; `shop_ids` replaces the set. The offer must still end after it starts."""

    title: Text200 = None  # type: ignore[assignment] - may be left out, never null
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    discount_percent: Annotated[int, Field(ge=1, le=100), JSON_INTEGER] = None  # type: ignore[assignment]
    starts_at: Instant = None  # type: ignore[assignment]
    ends_at: Instant = None  # type: ignore[assignment]
    shop_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)] = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _ends_after_start(self) -> OfferPatch:
        if self.starts_at is not None and self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be later than starts_at")
        return self


class OffersQuery(PageQuery):
    mall_id: uuid.UUID
    shop_id: uuid.UUID | None = None
    active: bool | None = Field(default=None, description="true: running now; false: not (yet, or any more)")
