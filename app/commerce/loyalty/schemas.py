"""Query of the caller's loyalty points."""

from __future__ import annotations

import uuid

from app.platform.pagination import PageQuery


class LoyaltyQuery(PageQuery):
    shop_id: uuid.UUID | None = None
