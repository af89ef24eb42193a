"""Request models for gate devices and guards' PINs."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from app.platform.http import Body

DeviceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Secret = Annotated[str, StringConstraints(min_length=20, max_length=100)]
Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$"), Field(description="Six digits")]


class GateDeviceIn(Body):
    name: DeviceName
    gate: DeviceName | None = Field(default=None, description="Which gate it stands at")


class PinIn(Body):
    pin: Pin


class DeviceCallIn(Body):
    """What a gate device sends to speak for itself: the secret it was given when it was registered."""

    secret: Secret


class PinSignInIn(DeviceCallIn):
    user_id: uuid.UUID = Field(description="The guard, picked from the device's roster")
    pin: Pin


class GuardPatch(Body):
    gate: DeviceName | None = Field(description="The gate the guard works at; null: none in particular")
