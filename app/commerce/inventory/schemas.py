"""Request models for a shop's inventory and its products' recipes."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.platform.http import JSON_INTEGER, Body

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Unit = Literal["g", "ml", "piece"]
Amount = Annotated[
    int,
    Field(ge=0, le=10**12, description="Whole units of the item's measure (grams, millilitres, pieces)"),
    JSON_INTEGER,
]
Supplier = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class ItemIn(Body):
    name: Name
    unit: Unit
    quantity: Amount = 0
    reorder_threshold: Amount = 0
    supplier: Supplier | None = None


class ItemPatch(Body):
    """Only the fields sent change; the quantity changes only through moves, which the ledger keeps."""

    name: Name = None  # type: ignore[assignment] - may be left out, never null
    unit: Unit = None  # type: ignore[assignment]
    reorder_threshold: Amount = None  # type: ignore[assignment]
    supplier: Supplier | None = None


class StockMoveIn(Body):
    """`restock` adds `amount`, `waste` takes it away, a `correction` says what a count found (`amount` is the
    quantity on hand)."""

    kind: Literal["restock", "waste", "correction"]
    amount: Amount
    reason: Reason | None = None


class RecipeLineIn(Body):
    item_id: uuid.UUID
    amount: Annotated[int, Field(ge=1, le=10**9), JSON_INTEGER]
    option_id: uuid.UUID | None = Field(
        default=None, description="What choosing this option adds; the product itself without"
    )


class RecipeIn(Body):
    lines: Annotated[list[RecipeLineIn], Field(max_length=50)]
