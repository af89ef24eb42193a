"""Request models for a customer's cart."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from app.platform.http import JSON_INTEGER, Body

Quantity = Annotated[int, Field(ge=1, le=99), JSON_INTEGER]


class CartItemIn(Body):
    """A product with the options chosen for it; the same choice again adds to its line."""

    product_id: uuid.UUID
    option_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = []
    quantity: Quantity = 1


class CartItemPatch(Body):
    quantity: Quantity


class CartQuery(BaseModel):
    shop_id: uuid.UUID
