"""Request and response models for sign-up, sign-in, profile and role assignment."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, model_validator
from pydantic.json_schema import WithJsonSchema

from app.platform.http import Body, Instant
from app.platform.openapi import VOCABULARY
from app.platform.security.passwords import weakness

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# 5 to 20 of digits, spaces, brackets and dashes after an optional "+"; written so that it begins and ends
# where trimmed text does, with no space, which lets the OpenAPI document say exactly what is taken.
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^(?:\+[0-9 ()-]{4,19}|[0-9()-][0-9 ()-]{3,18})[0-9()-]$"),
]


def _acceptable(password: str) -> str:
    problem = weakness(password)
    if problem:
        raise ValueError(f"the password {problem}")
    return password


# A new password. Argon2 has no length cap of its own; 256 keeps a hash request cheap.
Password = Annotated[str, StringConstraints(min_length=8, max_length=256), AfterValidator(_acceptable)]
Email = Annotated[
    EmailStr,
    StringConstraints(max_length=254),
    Field(description="An address that can receive mail: special-use domains (.test, .local, .invalid) are 422."),
]
# Which roles and scope types exist is up to the installed modules; the service checks the names.
# Names the installed domains declare: the OpenAPI document lists them (openapi.VOCABULARY).
RoleName = Annotated[
    str, StringConstraints(pattern=r"^[a-z_]{1,32}$"), WithJsonSchema({"type": "string", VOCABULARY: "role"})
]
ScopeTypeName = Annotated[
    str, StringConstraints(pattern=r"^[a-z_]{1,32}$"), WithJsonSchema({"type": "string", VOCABULARY: "scope_type"})
]


class SignupIn(Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "asha@example.com", "password": "a-long-password", "name": "Asha Rao"}]
        }
    )

    email: Email
    password: Password
    name: Name
    phone: Phone | None = None


# 3 to 32 letters, digits, dots, dashes and underscores, starting with a letter or digit; unique whatever
# the case, and signed in with whatever the case.
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,31}$")]


class LoginIn(Body):
    """Exactly one of `email` and `username`, with the password."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "asha@example.com", "password": "a-long-password"}],
            "oneOf": [
                {"required": ["email"], "properties": {"email": {"type": "string"}}},
                {"required": ["username"], "properties": {"username": {"type": "string"}}},
            ],
        }
    )

    email: Email | None = None
    username: Username | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]

    @model_validator(mode="after")
    def _one_of(self) -> LoginIn:
        if (self.email is None) == (self.username is None):
            raise ValueError("give either email or username")
        return self


class RefreshIn(Body):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class LogoutIn(RefreshIn):
    pass


class FirebaseIn(Body):
    id_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class ResetRequestIn(Body):
    email: Email


class ResetConfirmIn(Body):
    email: Email
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
    new_password: Password


HISTORY_FROM = (
    "The earliest moment of the scope's past the holder sees (sync replay, listed history). Left out: "
    "the moment of the grant for roles that start fresh (resident), all of it for the others."
)


class RoleAssignmentIn(Body):
    """`scope_id` names the scope; a global role (admin, customer) has none."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"scope_type": {"const": "global"}}},
            "then": {"properties": {"scope_id": {"type": "null"}}},
            "else": {"required": ["scope_id"], "properties": {"scope_id": {"type": "string"}}},
        }
    )

    user_id: uuid.UUID
    role: RoleName
    scope_type: ScopeTypeName
    scope_id: uuid.UUID | None = None
    history_from: Instant | None = Field(default=None, description=HISTORY_FROM)


class RoleHistoryIn(Body):
    history_from: Instant | None = Field(
        description="The earliest moment of the scope's past the holder sees; null: all of it."
    )


class UserOut(BaseModel):
    id: uuid.UUID
    email: str | None
    username: str | None
    name: str
    phone: str | None
    image_url: str | None
    created_at: dt.datetime


class AuthOut(BaseModel):
    user: UserOut
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds until the access token expires")


class GrantOut(BaseModel):
    role: str
    scope_type: str
    scope_id: uuid.UUID | None


class PlaceRefOut(BaseModel):
    kind: str = Field(description="society, complex, block, mall, ...")
    id: uuid.UUID
    name: str


class ScopeRef(BaseModel):
    """A place the caller holds a role on, with its name and what it sits inside (outermost first)."""

    id: uuid.UUID
    role: str
    name: str | None
    within: list[PlaceRefOut]
    post: str | None = Field(description="Where in this place the caller works, when it says: a guard's gate")


class ProfileOut(BaseModel):
    user: UserOut
    roles: list[GrantOut]
    flats: list[ScopeRef]
    societies: list[ScopeRef]
    malls: list[ScopeRef]
    shops: list[ScopeRef]
