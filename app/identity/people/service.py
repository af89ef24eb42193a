"""People: admins find accounts (by name, e-mail, username or phone, and by role), read and change them,
disable them and delete them; everyone changes their own name, phone, photo and username, and their
password (with the current one), which ends their other sessions and sockets.

Deleting is anonymising: the row stays, so the orders, visits and audit rows that point at it stay whole,
but its name becomes "Deleted user", its e-mail, username, phone, photo, password and Firebase link are
erased, its roles go and every session ends. The audit keeps who did what, by id.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg

from app.identity import repo as identity_repo
from app.identity import service as identity
from app.identity.people import repo
from app.identity.people.schemas import HoldersQuery, PasswordChangeIn, ProfilePatch, UserPatch, UsersQuery
from app.platform import audit
from app.platform.db import Tx
from app.platform.http import Conflict, Forbidden, NotFound, Unauthorized
from app.platform.pagination import decode_position, encode_position, page
from app.platform.security.permissions import Principal, require_admin
from app.platform.state import AppState


async def find(ctx: AppState, *, actor: Principal, q: UsersQuery) -> dict[str, Any]:
    require_admin(actor)
    after = decode_position(q.cursor, str, uuid.UUID)
    async with ctx.db.connection() as conn:
        found = await repo.search(
            conn,
            words=q.q,
            role=q.role,
            scope_type=q.scope_type,
            scope_id=q.scope_id,
            after=after,
            limit=q.limit,
        )
    return _by_name(found, q.limit)


def _by_name(found: list[tuple[Any, str]], limit: int) -> dict[str, Any]:
    """A page of (item, lower-cased name) pairs, listed by name: the cursor holds the name and the id."""
    listed = page(found, limit, lambda pair: (pair[1], pair[0].id), encode_position)
    return {**listed, "items": [item for item, _ in listed["items"]]}


async def get(ctx: AppState, *, actor: Principal, user_id: uuid.UUID) -> repo.Person:
    """An account, for an admin or its owner."""
    if user_id != actor.user_id:
        require_admin(actor)
    async with ctx.db.connection() as conn:
        person = await repo.get(conn, user_id)
    if person is None:
        raise NotFound("No such user.")
    return person


async def _change(tx: Tx, user_id: uuid.UUID, data: ProfilePatch) -> list[str]:
    changes = {name: getattr(data, name) for name in data.model_fields_set if name in repo.COLUMNS}
    if not await repo.update(tx.conn, user_id, changes):
        raise Conflict("That username is taken.", code="username_taken")
    return sorted(changes)


async def change(ctx: AppState, *, actor: Principal, user_id: uuid.UUID, data: UserPatch) -> repo.Person:
    """An admin's change of an account: its details, and whether it may sign in."""
    require_admin(actor)
    async with ctx.db.transaction() as tx:
        if await repo.get(tx.conn, user_id) is None:
            raise NotFound("No such user.")
        fields = await _change(tx, user_id, data)
        if "disabled" in data.model_fields_set:
            await identity.set_disabled_in(ctx, tx, actor=actor, user_id=user_id, disabled=data.disabled)
        if fields:
            await audit.record(
                tx.conn,
                actor_id=actor.user_id,
                action="user.updated",
                resource_type="user",
                resource_id=user_id,
                details={"fields": fields},
            )
        person = await repo.get(tx.conn, user_id)
        assert person is not None, "found in this transaction"
        return person


async def change_own(ctx: AppState, *, actor: Principal, data: ProfilePatch) -> repo.Person:
    async with ctx.db.transaction() as tx:
        fields = await _change(tx, actor.user_id, data)
        if fields:
            await audit.record(
                tx.conn,
                actor_id=actor.user_id,
                action="profile.updated",
                resource_type="user",
                resource_id=actor.user_id,
                details={"fields": fields},
            )
        person = await repo.get(tx.conn, actor.user_id)
    if person is None:
        raise NotFound("No such user.")
    return person


async def delete(ctx: AppState, *, actor: Principal, user_id: uuid.UUID) -> None:
    """Anonymise an account (admins; not one's own): see the module's docstring for what stays."""
    require_admin(actor)
    if user_id == actor.user_id:
        raise Conflict("You cannot delete your own account here.", code="cannot_delete_self")
    async with ctx.db.transaction() as tx:
        if not await repo.anonymise(tx.conn, user_id):
            raise NotFound("No such user.")
        await identity_repo.revoke_user_sessions(tx.conn, user_id=user_id, reason="deleted")
        await audit.record(
            tx.conn, actor_id=actor.user_id, action="user.deleted", resource_type="user", resource_id=user_id
        )
        tx.after_commit(lambda: ctx.hub.principal_changed(user_id))


async def change_password(ctx: AppState, *, actor: Principal, data: PasswordChangeIn) -> None:
    """With the current password (401 `invalid_credentials` otherwise, counted as a failed sign-in): the new
    one replaces it, and every other session of the account ends, sockets included."""
    account = str(actor.user_id)
    await ctx.limits.check_account("login", account)
    async with ctx.db.connection() as conn:
        found = await identity_repo.credentials_by_id(conn, actor.user_id)
    if found is None or found.password_hash is None:
        raise Forbidden("This account signs in without a password.", code="no_password")
    if not await ctx.passwords.verify(found.password_hash, data.current_password):
        await ctx.limits.count_account_failure("login", account)
        raise Unauthorized("The current password is wrong.", code="invalid_credentials")
    password_hash = await ctx.passwords.hash(data.new_password)
    async with ctx.db.transaction() as tx:
        await identity.replace_password(
            ctx,
            tx,
            user_id=actor.user_id,
            password_hash=password_hash,
            reason="password_changed",
            action="user.password_changed",
            keep=actor.session_id,
        )


async def holders(ctx: AppState, *, actor: Principal, q: HoldersQuery) -> dict[str, Any]:
    """The people of a place, for an admin or a scope admin of it (or of a place it sits inside): a
    society's guards and its flats' residents, a mall's security and its shops' staff."""
    after = decode_position(q.cursor, str, uuid.UUID)
    async with ctx.db.connection() as conn:
        await identity.managed_place(ctx, conn, actor=actor, scope_type=q.scope_type, scope_id=q.scope_id)
        found = await repo.holders_within(
            conn, scope_type=q.scope_type, scope_id=q.scope_id, role=q.role, after=after, limit=q.limit
        )
    return _by_name(found, q.limit)


async def holding(
    conn: asyncpg.Connection, *, role: str, scope_type: str, scope_id: uuid.UUID, most: int = 500
) -> list[repo.RoleHolder]:
    """For other domains: who holds `role` on exactly this place (a society's guards, say), by name."""
    found = await repo.holders_within(conn, scope_type=scope_type, scope_id=scope_id, role=role, after=None, limit=most)
    return [holder for holder, _ in found[:most] if holder.scope_type == scope_type and holder.scope_id == scope_id]


async def holders_within(
    conn: asyncpg.Connection,
    *,
    scope_type: str,
    scope_id: uuid.UUID,
    role: str | None,
    after: tuple[Any, ...] | None,
    limit: int,
) -> list[tuple[repo.RoleHolder, str]]:
    """For other domains, which check the caller themselves: the roles held on a place or on the places
    inside it, by the holder's name, each with its sort key (limit + 1 of them, for `page`)."""
    return await repo.holders_within(
        conn, scope_type=scope_type, scope_id=scope_id, role=role, after=after, limit=limit
    )


async def person(conn: asyncpg.Connection, user_id: uuid.UUID) -> repo.Person | None:
    """For other domains, which check the caller themselves: an account and every role it holds."""
    return await repo.get(conn, user_id)


async def reachable_at(conn: asyncpg.Connection, *, email: str | None, phone: str | None) -> list[uuid.UUID]:
    """For other domains, which check the caller themselves: the live accounts with this e-mail address or
    this phone number (compared by its digits, as "+91 98450-12345" and "919845012345" are one number)."""
    return await repo.reachable_at(conn, email=email, phone_digits=re.sub(r"\D", "", phone or ""))
