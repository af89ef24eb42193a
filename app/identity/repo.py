"""SQL for users, sessions, refresh tokens, roles, password resets and the auth audit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from app.platform.security.permissions import Grant


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    email: str | None
    username: str | None
    name: str
    phone: str | None
    image_url: str | None
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    user: User
    password_hash: str | None
    disabled: bool


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    id: uuid.UUID
    user_id: uuid.UUID
    role: str
    scope_type: str
    scope_id: uuid.UUID | None
    created_at: dt.datetime
    history_from: dt.datetime | None


@dataclass(frozen=True, slots=True)
class PrincipalRow:
    user: User
    grants: tuple[Grant, ...]


@dataclass(frozen=True, slots=True)
class SpentRefresh:
    session_id: uuid.UUID
    user_id: uuid.UUID


_USER_COLS = "u.id, u.email, u.username, u.name, u.phone, u.image_url, u.created_at"


def _user(row: asyncpg.Record) -> User:
    return User(
        row["id"], row["email"], row["username"], row["name"], row["phone"], row["image_url"], row["created_at"]
    )


def _grants(raw: list[list[str]] | None) -> tuple[Grant, ...]:
    return tuple(
        Grant(r, t, uuid.UUID(s) if s else None, dt.datetime.fromisoformat(h) if h else None)
        for r, t, s, h in raw or ()
    )


async def insert_user(
    conn: asyncpg.Connection, *, email: str, name: str, phone: str | None, password_hash: str
) -> User | None:
    """The new user, or None when the email is taken."""
    row = await conn.fetchrow(
        f"""INSERT INTO users AS u (email, name, phone, password_hash) VALUES ($1, $2, $3, $4)
            ON CONFLICT (lower(email)) DO NOTHING RETURNING {_USER_COLS}""",
        email,
        name,
        phone,
        password_hash,
    )
    return _user(row) if row else None


# How an account is found for a sign-in: fixed conditions, never built from input.
_FIND_BY = {"email": "lower(u.email) = lower($1)", "username": "lower(u.username) = lower($1)", "id": "u.id = $1"}


async def _credentials(conn: asyncpg.Connection, by: str, value: object) -> Credentials | None:
    row = await conn.fetchrow(
        f"""SELECT {_USER_COLS}, u.password_hash, u.disabled_at IS NOT NULL AS disabled
            FROM users u WHERE {_FIND_BY[by]}""",
        value,
    )
    return Credentials(_user(row), row["password_hash"], row["disabled"]) if row else None


async def credentials_by_email(conn: asyncpg.Connection, email: str) -> Credentials | None:
    return await _credentials(conn, "email", email)


async def credentials_by_username(conn: asyncpg.Connection, username: str) -> Credentials | None:
    return await _credentials(conn, "username", username)


async def credentials_by_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> Credentials | None:
    return await _credentials(conn, "id", user_id)


async def get_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> User | None:
    row = await conn.fetchrow(f"SELECT {_USER_COLS} FROM users u WHERE u.id = $1", user_id)
    return _user(row) if row else None


async def user_of_firebase_uid(conn: asyncpg.Connection, uid: str) -> uuid.UUID | None:
    return await conn.fetchval("SELECT id FROM users WHERE firebase_uid = $1", uid)


async def upsert_firebase_user(
    conn: asyncpg.Connection, *, uid: str, email: str | None, name: str, phone: str | None
) -> tuple[User, bool]:
    """The user signed in with this Firebase uid, created on first sign-in.

    A verified email that already has an account links that account.
    Returns (user, disabled).
    """
    row = await conn.fetchrow(
        f"""WITH linked AS (
                UPDATE users u SET firebase_uid = $1, updated_at = now()
                WHERE $2::text IS NOT NULL AND lower(u.email) = lower($2) AND u.firebase_uid IS NULL
                  AND NOT EXISTS (SELECT 1 FROM users WHERE firebase_uid = $1)
                RETURNING {_USER_COLS}, u.disabled_at IS NOT NULL AS disabled)
            SELECT * FROM linked
            UNION ALL
            SELECT {_USER_COLS}, u.disabled_at IS NOT NULL FROM users u WHERE u.firebase_uid = $1""",
        uid,
        email,
    )
    if row is None:
        row = await conn.fetchrow(
            f"""INSERT INTO users AS u (firebase_uid, email, name, phone) VALUES ($1, $2, $3, $4)
                ON CONFLICT (firebase_uid) DO UPDATE SET updated_at = now()
                RETURNING {_USER_COLS}, u.disabled_at IS NOT NULL AS disabled""",
            uid,
            email,
            name,
            phone,
        )
    return _user(row), row["disabled"]


async def set_password(conn: asyncpg.Connection, *, user_id: uuid.UUID, password_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1",
        user_id,
        password_hash,
    )


async def set_disabled(conn: asyncpg.Connection, *, user_id: uuid.UUID, disabled: bool) -> bool:
    status = await conn.execute(
        """UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END,
                            updated_at = now()
           WHERE id = $1 AND deleted_at IS NULL""",
        user_id,
        disabled,
    )
    return status != "UPDATE 0"


# Sessions and refresh tokens ----------------------------------------------------


async def insert_session(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, ip: str | None, user_agent: str | None
) -> uuid.UUID:
    return await conn.fetchval(
        "INSERT INTO auth_sessions (user_id, ip, user_agent) VALUES ($1, $2::inet, $3) RETURNING id",
        user_id,
        ip,
        user_agent,
    )


async def insert_refresh_token(
    conn: asyncpg.Connection, *, session_id: uuid.UUID, token_hash: bytes, ttl_seconds: int
) -> None:
    await conn.execute(
        """INSERT INTO refresh_tokens (session_id, token_hash, expires_at)
           VALUES ($1, $2, now() + make_interval(secs => $3))""",
        session_id,
        token_hash,
        ttl_seconds,
    )


async def spend_refresh_token(conn: asyncpg.Connection, token_hash: bytes) -> SpentRefresh | None:
    """Mark a live refresh token spent; None if it is unknown, spent, expired or its session is over."""
    row = await conn.fetchrow(
        """UPDATE refresh_tokens t SET spent_at = now()
           FROM auth_sessions s JOIN users u ON u.id = s.user_id
           WHERE t.token_hash = $1 AND t.spent_at IS NULL AND t.expires_at > now()
             AND s.id = t.session_id AND s.revoked_at IS NULL AND u.disabled_at IS NULL
           RETURNING t.session_id, s.user_id""",
        token_hash,
    )
    return SpentRefresh(row["session_id"], row["user_id"]) if row else None


async def session_of_spent_token(conn: asyncpg.Connection, token_hash: bytes) -> SpentRefresh | None:
    """The session of a refresh token that was already spent (a replay), if it is one."""
    row = await conn.fetchrow(
        """SELECT t.session_id, s.user_id FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
           WHERE t.token_hash = $1 AND t.spent_at IS NOT NULL""",
        token_hash,
    )
    return SpentRefresh(row["session_id"], row["user_id"]) if row else None


async def session_of_token(conn: asyncpg.Connection, token_hash: bytes) -> SpentRefresh | None:
    row = await conn.fetchrow(
        """SELECT t.session_id, s.user_id FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
           WHERE t.token_hash = $1""",
        token_hash,
    )
    return SpentRefresh(row["session_id"], row["user_id"]) if row else None


async def revoke_session(conn: asyncpg.Connection, *, session_id: uuid.UUID, reason: str) -> uuid.UUID | None:
    """End a session (and so its whole refresh-token family); returns its user when it was live."""
    return await conn.fetchval(
        """UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
           WHERE id = $1 AND revoked_at IS NULL RETURNING user_id""",
        session_id,
        reason,
    )


async def revoke_user_sessions(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, reason: str, keep: uuid.UUID | None = None
) -> None:
    """End every live session of the user, but `keep` (the one asking, say)."""
    await conn.execute(
        """UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
           WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $3""",
        user_id,
        reason,
        keep,
    )


_GRANTS = """(SELECT coalesce(jsonb_agg(jsonb_build_array(r.role, r.scope_type, r.scope_id, r.history_from)), '[]')
             FROM role_assignments r WHERE r.user_id = u.id) AS grants"""


async def principal_for_session(
    conn: asyncpg.Connection, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> PrincipalRow | None:
    """The user and grants behind a live session; None when the session or the user is not live."""
    row = await conn.fetchrow(
        f"""SELECT {_USER_COLS}, {_GRANTS}
            FROM auth_sessions s JOIN users u ON u.id = s.user_id
            WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND u.disabled_at IS NULL""",
        session_id,
        user_id,
    )
    return PrincipalRow(_user(row), _grants(row["grants"])) if row else None


async def principal_for_user(conn: asyncpg.Connection, user_id: uuid.UUID) -> PrincipalRow | None:
    """The user and grants for a sign-in without a session (Firebase); None when disabled."""
    row = await conn.fetchrow(
        f"SELECT {_USER_COLS}, {_GRANTS} FROM users u WHERE u.id = $1 AND u.disabled_at IS NULL",
        user_id,
    )
    return PrincipalRow(_user(row), _grants(row["grants"])) if row else None


# Roles ---------------------------------------------------------------------------

_ROLE_COLS = "id, user_id, role, scope_type, scope_id, created_at, history_from"


def _assignment(row: asyncpg.Record) -> RoleAssignment:
    return RoleAssignment(**dict(row))


async def insert_role_assignment(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID,
    role: str,
    scope_type: str,
    scope_id: uuid.UUID | None,
    granted_by: uuid.UUID | None,
    history_from: dt.datetime | None = None,
    fresh_start: bool = False,
    within: Sequence[uuid.UUID] = (),
) -> tuple[RoleAssignment, bool]:
    """The assignment and whether it is new (an existing identical one is returned as is). Its view
    of the past starts at `history_from`, or else now for a `fresh_start` role, or else never; `within`
    are the scopes its scope sits inside."""
    row = await conn.fetchrow(
        f"""INSERT INTO role_assignments (user_id, role, scope_type, scope_id, granted_by, history_from, within)
            VALUES ($1, $2, $3, $4, $5, coalesce($6, CASE WHEN $7 THEN now() END), $8)
            ON CONFLICT (user_id, role, scope_type, scope_id) DO NOTHING
            RETURNING {_ROLE_COLS}""",
        user_id,
        role,
        scope_type,
        scope_id,
        granted_by,
        history_from,
        fresh_start,
        list(within),
    )
    if row is not None:
        return _assignment(row), True
    row = await conn.fetchrow(
        f"""SELECT {_ROLE_COLS} FROM role_assignments
            WHERE user_id = $1 AND role = $2 AND scope_type = $3 AND scope_id IS NOT DISTINCT FROM $4""",
        user_id,
        role,
        scope_type,
        scope_id,
    )
    return _assignment(row), False


async def get_role_assignment(conn: asyncpg.Connection, assignment_id: uuid.UUID) -> RoleAssignment | None:
    row = await conn.fetchrow(f"SELECT {_ROLE_COLS} FROM role_assignments WHERE id = $1", assignment_id)
    return _assignment(row) if row else None


async def set_history_from(
    conn: asyncpg.Connection, assignment_id: uuid.UUID, history_from: dt.datetime | None
) -> RoleAssignment | None:
    row = await conn.fetchrow(
        f"UPDATE role_assignments SET history_from = $2 WHERE id = $1 RETURNING {_ROLE_COLS}",
        assignment_id,
        history_from,
    )
    return _assignment(row) if row else None


async def delete_role_assignment(conn: asyncpg.Connection, assignment_id: uuid.UUID) -> bool:
    return await conn.execute("DELETE FROM role_assignments WHERE id = $1", assignment_id) != "DELETE 0"


async def user_exists(conn: asyncpg.Connection, user_id: uuid.UUID) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)", user_id)


# Password resets ------------------------------------------------------------------


async def insert_password_reset(conn: asyncpg.Connection, *, user_id: uuid.UUID, ttl_seconds: int) -> uuid.UUID:
    """A new reset, replacing any earlier unused one; its code is set when it is sent (`set_reset_code`)."""
    await conn.execute("UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL", user_id)
    return await conn.fetchval(
        """INSERT INTO password_resets (user_id, expires_at)
           VALUES ($1, now() + make_interval(secs => $2)) RETURNING id""",
        user_id,
        ttl_seconds,
    )


@dataclass(frozen=True, slots=True)
class ResetToSend:
    user_id: uuid.UUID
    email: str


async def live_reset(conn: asyncpg.Connection, reset_id: uuid.UUID) -> ResetToSend | None:
    """Who a reset is for, locked for this transaction; None once it is used, expired or its account disabled."""
    row = await conn.fetchrow(
        """SELECT p.user_id, u.email FROM password_resets p JOIN users u ON u.id = p.user_id
           WHERE p.id = $1 AND p.used_at IS NULL AND p.expires_at > now()
             AND u.disabled_at IS NULL AND u.email IS NOT NULL
           FOR UPDATE OF p""",
        reset_id,
    )
    return ResetToSend(row["user_id"], row["email"]) if row else None


async def set_reset_code(conn: asyncpg.Connection, *, reset_id: uuid.UUID, code_hash: bytes) -> None:
    """The code about to be sent replaces any sent before."""
    await conn.execute("UPDATE password_resets SET code_hash = $2 WHERE id = $1", reset_id, code_hash)


@dataclass(frozen=True, slots=True)
class PendingReset:
    id: uuid.UUID
    user_id: uuid.UUID
    code_hash: bytes
    attempts: int


async def lock_pending_reset(conn: asyncpg.Connection, email: str) -> PendingReset | None:
    """The live reset code of this email's account, locked for this transaction."""
    row = await conn.fetchrow(
        """SELECT p.id, p.user_id, p.code_hash, p.attempts
           FROM password_resets p JOIN users u ON u.id = p.user_id
           WHERE lower(u.email) = lower($1) AND p.used_at IS NULL AND p.expires_at > now()
             AND p.code_hash IS NOT NULL AND u.disabled_at IS NULL
           ORDER BY p.created_at DESC LIMIT 1
           FOR UPDATE OF p""",
        email,
    )
    return PendingReset(**dict(row)) if row else None


async def count_reset_attempt(conn: asyncpg.Connection, *, reset_id: uuid.UUID, give_up: bool) -> None:
    await conn.execute(
        """UPDATE password_resets SET attempts = attempts + 1,
                                      used_at = CASE WHEN $2 THEN now() ELSE used_at END
           WHERE id = $1""",
        reset_id,
        give_up,
    )


async def use_reset(conn: asyncpg.Connection, reset_id: uuid.UUID) -> None:
    await conn.execute("UPDATE password_resets SET used_at = now() WHERE id = $1", reset_id)


async def insert_auth_audit(
    conn: asyncpg.Connection,
    *,
    user_id: uuid.UUID | None,
    provider: str,
    subject: str | None,
    outcome: str,
    reason: str | None,
    ip: str | None,
) -> None:
    await conn.execute(
        """INSERT INTO auth_audit (user_id, provider, subject, outcome, reason, ip)
           VALUES ($1, $2, $3, $4, $5, $6::inet)""",
        user_id,
        provider,
        subject,
        outcome,
        None if reason is None else reason[:500],
        ip,
    )
