"""What the installed modules declare and what their migrations added must agree."""

from __future__ import annotations

import asyncpg
import pytest

from app.main import DOMAINS
from app.platform.db import Database


async def test_declared_roles_and_scope_types_are_the_rows_the_migrations_added(db: Database) -> None:
    async with db.connection() as conn:
        roles = {(r["name"], r["scope_type"]) for r in await conn.fetch("SELECT name, scope_type FROM roles")}
        scope_types = {r["name"] for r in await conn.fetch("SELECT name FROM scope_types")}
    assert roles == {(role.name, role.scope_type) for role in DOMAINS.rules().roles}
    assert scope_types == set(DOMAINS.scopes().names)


async def test_a_role_no_domain_added_cannot_be_assigned(db: Database) -> None:
    async with db.connection() as conn:
        user_id = await conn.fetchval(
            "INSERT INTO users (email, name) VALUES ('ghost-role@example.com', 'G') RETURNING id"
        )
        try:
            with pytest.raises(asyncpg.ForeignKeyViolationError):
                await conn.execute(
                    "INSERT INTO role_assignments (user_id, role, scope_type) VALUES ($1, 'overlord', 'global')",
                    user_id,
                )
        finally:
            await conn.execute("DELETE FROM users WHERE id = $1", user_id)
