"""Request models for a person's notification preferences and devices."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.platform.http import Body


class PreferencesPatch(Body):
    """Only the fields sent change."""

    order_emails: bool = Field(default=None, description="E-mails about your orders")  # type: ignore[assignment]
    order_pushes: bool = Field(default=None, description="Pushes about your orders")  # type: ignore[assignment]
    promotions: bool = Field(default=None, description="Shops' promotions by e-mail (off until you opt in)")  # type: ignore[assignment]


class DeviceIn(Body):
    fcm_token: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    platform: Literal["android", "ios", "web"]
