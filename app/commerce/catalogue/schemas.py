"""Request models for a shop's catalogue: categories, products and the choices a product offers."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from app.platform.http import JSON_INTEGER, Body
from app.platform.images import ImageUrl
from app.platform.pagination import PageQuery

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Brand = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Price = Annotated[
    int, Field(ge=0, le=10**12, description="Integer minor units of the shop's currency (paise for INR)"), JSON_INTEGER
]
Delta = Annotated[int, Field(ge=-(10**12), le=10**12, description="Added to the product's price"), JSON_INTEGER]
Stock = Annotated[int, Field(ge=0, le=10**9, description="Units on hand; null for a made-to-order item"), JSON_INTEGER]
Position = Annotated[int, Field(ge=0, le=10_000), JSON_INTEGER]
Choices = Annotated[int, Field(ge=0, le=20), JSON_INTEGER]


def _unique(names: list[str], what: str) -> None:
    folded = [n.casefold() for n in names]
    if len(set(folded)) != len(folded):
        raise ValueError(f"{what} names must differ")


class CategoryIn(Body):
    name: Name
    position: Position = 0


class CategoryPatch(Body):
    name: Name = None  # type: ignore[assignment] - may be left out, never null
    position: Position = None  # type: ignore[assignment]


class OptionIn(Body):
    name: Name
    price_delta: Delta = 0


class GroupIn(Body):
    """A choice: between `min_choices` and `max_choices` of its options (a size: exactly one)."""

    name: Name
    min_choices: Choices = 0
    max_choices: Annotated[int, Field(ge=1, le=20), JSON_INTEGER] = 1
    options: Annotated[list[OptionIn], Field(min_length=1, max_length=50)]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_choices > self.max_choices:
            raise ValueError("min_choices may not be more than max_choices")
        if self.min_choices > len(self.options):
            raise ValueError("min_choices may not be more than the options there are")
        _unique([o.name for o in self.options], "option")
        return self


Groups = Annotated[list[GroupIn], Field(max_length=20)]


def _check_groups(groups: list[GroupIn] | None) -> None:
    if groups:
        _unique([g.name for g in groups], "modifier group")


class ProductIn(Body):
    shop_id: uuid.UUID
    name: Text200
    description: Description | None = None
    brand: Brand | None = None
    category_id: uuid.UUID | None = None
    price: Price
    image_urls: Annotated[list[ImageUrl], Field(max_length=10)] = []
    active: bool = True
    featured: bool = Field(default=False, description="Shown among the shop's featured products")
    stock: Stock | None = None
    modifier_groups: Groups = []

    @model_validator(mode="after")
    def _groups(self) -> Self:
        _check_groups(self.modifier_groups)
        return self


class ProductPatch(Body):
    """Only the fields sent change. `modifier_groups` replaces the product's choices; a group or option that
    keeps its name keeps its id, so carts that chose it still hold."""

    name: Text200 = None  # type: ignore[assignment] - may be left out, never null
    description: Description | None = None
    brand: Brand | None = None
    category_id: uuid.UUID | None = None
    price: Price = None  # type: ignore[assignment]
    image_urls: Annotated[list[ImageUrl], Field(max_length=10)] = None  # type: ignore[assignment]
    active: bool = None  # type: ignore[assignment]
    featured: bool = None  # type: ignore[assignment]
    stock: Stock | None = None
    modifier_groups: Groups = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _groups(self) -> Self:
        _check_groups(self.modifier_groups)
        return self


class ProductStockMoveIn(Body):
    """`restock` adds `amount` units, `waste` takes them away, a `correction` says what a count found
    (`amount` is the number on hand)."""

    kind: Literal["restock", "waste", "correction"]
    amount: Annotated[int, Field(ge=0, le=10**9, description="Units"), JSON_INTEGER]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


Sort = Literal["relevance", "name", "price", "-price", "newest", "rating"]


class ProductsQuery(PageQuery):
    """A shop's products. Shoppers see the active ones; the shop's staff may ask for `active=false` too."""

    shop_id: uuid.UUID
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        default=None, description="Words to find in the name, brand or description (each as a prefix)"
    )
    category_id: uuid.UUID | None = None
    brand: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = Field(
        default=None, description="This brand only (case does not count)"
    )
    min_price: Annotated[int, Field(ge=0)] | None = None
    max_price: Annotated[int, Field(ge=0)] | None = None
    min_rating: Annotated[float, Field(ge=1, le=5)] | None = Field(
        default=None, description="Rated at least this on average (unrated products are left out)"
    )
    featured: bool | None = Field(default=None, description="true: the products the shop features")
    in_stock: bool | None = Field(
        default=None, description="true: one can be ordered now (a unit left, or every ingredient its recipe takes)"
    )
    active: bool | None = Field(default=None, description="Staff only; shoppers always see active products")
    sort: Sort | None = Field(
        default=None,
        description="`relevance` (the default with `q`), `name` (else), `price`, `-price`, `newest`, `rating`",
    )

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price may not be more than max_price")
        return self


class FavouritesQuery(PageQuery):
    shop_id: uuid.UUID | None = Field(default=None, description="Only this shop's")
