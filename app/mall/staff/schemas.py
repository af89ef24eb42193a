"""What the mall's staff screens ask for and get: the people holding roles at a mall or its shops."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from app.mall.attendance.repo import Shift, Worked
from app.platform.pagination import PageQuery

StaffRoleName = Literal["mall_admin", "security", "shop_manager", "employee"]


class StaffQuery(PageQuery):
    """By name; a person with two roles at the mall is listed once per role."""

    role: StaffRoleName | None = None
    shop_id: uuid.UUID | None = Field(default=None, description="Only the staff of this shop of the mall")


@dataclass(frozen=True, slots=True)
class StaffRole:
    """One role someone holds at the mall (`shop_id` None) or at one of its shops."""

    user_id: uuid.UUID
    name: str
    image_url: str | None
    phone: str | None
    email: str | None
    disabled: bool
    role: str
    shop_id: uuid.UUID | None
    shop_name: str | None
    on_shift: bool
    since: dt.datetime


@dataclass(frozen=True, slots=True)
class HeldRole:
    role: str
    shop_id: uuid.UUID | None
    shop_name: str | None


@dataclass(frozen=True, slots=True)
class Employee:
    """One person on the mall's staff: their roles there, the shift they are on, and what they worked on
    the mall's last 30 days."""

    user_id: uuid.UUID
    name: str
    image_url: str | None
    phone: str | None
    email: str | None
    disabled: bool
    roles: list[HeldRole]
    shift: Shift | None
    last_30_days: Worked
