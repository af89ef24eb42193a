"""Request and response models for the society hierarchy."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from app.platform.http import JSON_INTEGER, Body
from app.platform.pagination import PageQuery

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


class SocietiesQuery(PageQuery):
    city: City | None = None


class ComplexesQuery(PageQuery):
    society_id: uuid.UUID


class BlocksQuery(PageQuery):
    complex_id: uuid.UUID


class FlatsQuery(PageQuery):
    block_id: uuid.UUID
