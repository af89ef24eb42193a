"""Request models for promotions."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from app.platform.http import Body


class PromotionIn(Body):
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=150)]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
