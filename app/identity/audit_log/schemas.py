"""The query of the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field, StringConstraints

from app.platform.http import Instant
from app.platform.pagination import PageQuery

Word = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_.]{0,63}$")]


class AuditQuery(PageQuery):
    """Audit rows, newest first; every filter given must hold. With a place (`scope_type` and `scope_id`),
    what happened in it and in the places inside it, for those who manage its people."""

    scope_type: Word | None = Field(default=None, description="The kind of place (`society`, `mall`, `shop`, ...)")
    scope_id: uuid.UUID | None = Field(default=None, description="The place, with `scope_type`")
    actor_id: uuid.UUID | None = Field(default=None, description="Who did it")
    action: Word | None = Field(
        default=None,
        description="What was done (`user.deleted`), or every action of a kind with its prefix and a dot (`user.`)",
    )
    resource_type: Word | None = Field(default=None, description="What it was done to (`user`, `order`, ...)")
    resource_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    from_: Instant | None = Field(default=None, alias="from", description="At or after this moment")
    to: Instant | None = Field(default=None, description="Before this moment")
