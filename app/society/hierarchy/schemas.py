"""Request and response models for the society hierarchy."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.platform.http import JSON_INTEGER, Body

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SocietyIn(Body):
    name: Text200
    city: City
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class ComplexIn(Body):
    society_id: uuid.UUID
    name: Text200


class BlockIn(Body):
    complex_id: uuid.UUID
    name: Text200


class FlatIn(Body):
    block_id: uuid.UUID
    flat_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    floor: Annotated[int, Field(ge=-10, le=300), JSON_INTEGER] | None = None


class ListQuery(BaseModel):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class SocietiesQuery(ListQuery):
    city: City | None = None


class ComplexesQuery(ListQuery):
    society_id: uuid.UUID


class BlocksQuery(ListQuery):
    complex_id: uuid.UUID


class FlatsQuery(ListQuery):
    block_id: uuid.UUID
