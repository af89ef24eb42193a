"""Request models for finding and changing people, and for a person changing their own account."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.identity.schemas import Name, Password, Phone, RoleName, ScopeTypeName, Username
from app.platform.http import Body
from app.platform.images import ImageUrl
from app.platform.pagination import PageQuery


class UsersQuery(PageQuery):
    """Living accounts by name. `role`, `scope_type` and `scope_id` filter by one role assignment."""

    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = Field(
        default=None, description="Words of the name (each as a prefix), or the start of the e-mail, username or phone"
    )
    role: RoleName | None = None
    scope_type: ScopeTypeName | None = None
    scope_id: uuid.UUID | None = None


class ProfilePatch(Body):
    """What a person changes of their own account; only the fields sent change, null clears."""

    name: Name = None  # type: ignore[assignment] - may be left out, never null
    phone: Phone | None = None
    image_url: ImageUrl | None = Field(default=None, description="From POST /v1/uploads, or an https:// URL")
    username: Username | None = Field(default=None, description="Unique whatever the case; sign in with it")


class UserPatch(ProfilePatch):
    """What an admin changes of an account; `disabled` ends its sessions and sockets."""

    disabled: bool = None  # type: ignore[assignment] - may be left out, never null


class PasswordChangeIn(Body):
    current_password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


class PlaceQuery(BaseModel):
    """A place people hold roles on: a society, a flat, a mall, a shop."""

    scope_type: ScopeTypeName
    scope_id: uuid.UUID


class HoldersQuery(PageQuery, PlaceQuery):
    """Who holds roles on a place or on the places inside it, by name."""

    role: RoleName | None = None
