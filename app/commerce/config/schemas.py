"""Request models for the commerce configuration."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from app.platform.http import JSON_INTEGER, Body

Rate = Annotated[int, Field(ge=0, le=10_000, description="Basis points: 500 is 5 %"), JSON_INTEGER]


class ConfigQuery(BaseModel):
    shop_id: uuid.UUID | None = Field(default=None, description="What applies at this shop; the global values without")


class ConfigPatch(Body):
    """Admins only. Without `shop_id` the global values change; with one, that shop's overrides, where null
    drops an override (the global value applies again)."""

    shop_id: uuid.UUID | None = None
    tax_rate_bp: Rate | None = None
    loyalty_earn_bp: Rate | None = Field(default=None, description="The share of a paid order earned as points")
    loyalty_redeem_max_bp: Rate | None = Field(default=None, description="The most of an order points may pay")
    loyalty_enabled: bool | None = Field(default=None, description="Whether customers earn and spend points")
    online_payments_enabled: bool | None = Field(default=None, description="Whether customers may pay online")
    pre_orders_enabled: bool | None = Field(
        default=None, description="Whether customers may order while the shop is closed by its hours"
    )
