"""Identity rules: sign-up and sign-in, token rotation, password reset, roles.

Each use case is one transaction. Changes that narrow what a user may do
(logout, a revoked role, a disabled account, a new password) are announced to
the realtime hub after commit, so open sockets follow at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
from dataclasses import dataclass

import asyncpg
import structlog

from app.identity import repo
from app.identity.invitations import repo as invitations
from app.identity.schemas import RoleAssignmentIn, SignupIn
from app.platform import audit, context
from app.platform.db import Database, Tx
from app.platform.http import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from app.platform.realtime.gateway import SignedIn
from app.platform.realtime.rooms import user_room
from app.platform.security.firebase import FirebaseIdentity, FirebaseTokenError, looks_like_firebase_token
from app.platform.security.passwords import Passwords
from app.platform.security.permissions import Principal, require_admin
from app.platform.security.scopes import Scope
from app.platform.security.tokens import (
    TokenError,
    TokenExpired,
    hash_refresh_token,
    looks_like_refresh_token,
    new_refresh_token,
)
from app.platform.state import AppState

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class AuthResult:
    user: repo.User
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Device:
    """Where a sign-in comes from, kept on the session."""

    ip: str | None
    user_agent: str | None


async def _open_session(
    ctx: AppState, tx: Tx, user: repo.User, device: Device, *, method: str, where: Scope | None = None
) -> AuthResult:
    """A new session for `user`, signed in by `method` (password, username, firebase, signup), audited (in
    the place it happened, for a sign-in at a place's own device)."""
    session_id = await repo.insert_session(tx.conn, user_id=user.id, ip=device.ip, user_agent=device.user_agent)
    await audit.record(
        tx.conn,
        actor_id=user.id,
        action="session.signed_in",
        resource_type="session",
        resource_id=session_id,
        details={"method": method},
        where=where,
    )
    refresh_token, token_hash = new_refresh_token()
    await repo.insert_refresh_token(
        tx.conn, session_id=session_id, token_hash=token_hash, ttl_seconds=ctx.settings.refresh_token_ttl
    )
    access = ctx.tokens.issue(user_id=user.id, session_id=session_id)
    return AuthResult(user, access, refresh_token, ctx.tokens.ttl, session_id)


async def sign_in_as(
    ctx: AppState, tx: Tx, *, user_id: uuid.UUID, device: Device, method: str, where: Scope
) -> AuthResult:
    """A session for a user another domain has vouched for (a guard's PIN on a gate device of `where`,
    say); 403 for a disabled account, 404 for none."""
    found = await repo.credentials_by_id(tx.conn, user_id)
    if found is None:
        raise NotFound("No such user.")
    if found.disabled:
        raise Forbidden("This account is disabled.", code="account_disabled")
    return await _open_session(ctx, tx, found.user, device, method=method, where=where)


async def signup(ctx: AppState, *, data: SignupIn, device: Device) -> AuthResult:
    """Create an account (a customer) and sign it in; 409 if the email is taken."""
    password_hash = await ctx.passwords.hash(data.password)
    async with ctx.db.transaction() as tx:
        user = await repo.insert_user(
            tx.conn, email=str(data.email), name=data.name, phone=data.phone, password_hash=password_hash
        )
        if user is None:
            raise Conflict("An account with this email exists.", code="email_taken")
        await repo.insert_role_assignment(
            tx.conn, user_id=user.id, role="customer", scope_type="global", scope_id=None, granted_by=None
        )
        await audit.record(tx.conn, actor_id=user.id, action="user.signup", resource_type="user", resource_id=user.id)
        return await _open_session(ctx, tx, user, device, method="signup")


async def login(
    ctx: AppState, *, email: str | None = None, username: str | None = None, password: str, device: Device
) -> AuthResult:
    """Sign in with email or username (either case) and password; the same 401 for a wrong name or
    password, and 429 once the account has had `RATE_LIMIT_ACCOUNT` failures, from whatever addresses,
    until the window frees one."""
    async with ctx.db.connection() as conn:
        if email is not None:
            found = await repo.credentials_by_email(conn, email)
        else:
            assert username is not None, "the request names one or the other"
            found = await repo.credentials_by_username(conn, username)
    # Failures count against the account, whichever name it was reached by (or the name, for none).
    account = str(found.user.id) if found else (email or f"username:{username}").lower()
    await ctx.limits.check_account("login", account)
    method = "password" if email is not None else "username"
    ok = await ctx.passwords.verify(found.password_hash if found else None, password)
    if found is None or not ok or found.disabled:
        reason = "unknown_name" if found is None else ("wrong_password" if not ok else "account_disabled")
        async with ctx.db.transaction() as tx:
            await audit.record(
                tx.conn,
                actor_id=None,
                action="session.sign_in_failed",
                resource_type="user",
                resource_id=found.user.id if found else None,
                details={"method": method, "reason": reason},
            )
        if reason == "account_disabled":
            raise Forbidden("This account is disabled.", code="account_disabled")
        await ctx.limits.count_account_failure("login", account)
        raise Unauthorized("Wrong sign-in name or password.", code="invalid_credentials")
    async with ctx.db.transaction() as tx:
        return await _open_session(ctx, tx, found.user, device, method=method)


async def refresh(ctx: AppState, *, refresh_token: str) -> AuthResult:
    """Trade a refresh token for a new pair; a replayed (spent) token ends its whole session."""
    if not looks_like_refresh_token(refresh_token):
        raise Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")
    token_hash = hash_refresh_token(refresh_token)
    async with ctx.db.transaction() as tx:
        spent = await repo.spend_refresh_token(tx.conn, token_hash)
        if spent is not None:
            user = await repo.get_user(tx.conn, spent.user_id)
            assert user is not None, "a session's user is deleted with it"
            new_token, new_hash = new_refresh_token()
            await repo.insert_refresh_token(
                tx.conn, session_id=spent.session_id, token_hash=new_hash, ttl_seconds=ctx.settings.refresh_token_ttl
            )
            access = ctx.tokens.issue(user_id=user.id, session_id=spent.session_id)
            return AuthResult(user, access, new_token, ctx.tokens.ttl, spent.session_id)
        replay = await repo.session_of_spent_token(tx.conn, token_hash)
        if replay is not None and await repo.revoke_session(
            tx.conn, session_id=replay.session_id, reason="refresh_reuse"
        ):
            log.warning("refresh_token_reuse", user_id=str(replay.user_id), session_id=str(replay.session_id))
            await audit.record(
                tx.conn,
                actor_id=None,
                action="session.revoked_on_reuse",
                resource_type="session",
                resource_id=replay.session_id,
            )
            tx.after_commit(lambda: ctx.hub.principal_changed(replay.user_id, session_id=replay.session_id))
    # Raised after the block so the revocation commits.
    raise Unauthorized("The refresh token is not valid.", code="invalid_refresh_token")


async def logout(ctx: AppState, *, principal: Principal | None, refresh_token: str | None) -> None:
    """End the caller's session (named by its access token or its refresh token)."""
    async with ctx.db.transaction() as tx:
        session_ids = set()
        if principal is not None and principal.session_id is not None:
            session_ids.add(principal.session_id)
        if refresh_token and looks_like_refresh_token(refresh_token):
            found = await repo.session_of_token(tx.conn, hash_refresh_token(refresh_token))
            if found is not None and (principal is None or found.user_id == principal.user_id):
                session_ids.add(found.session_id)
        for session_id in sorted(session_ids):
            user_id = await repo.revoke_session(tx.conn, session_id=session_id, reason="logout")
            if user_id is not None:
                await audit.record(
                    tx.conn, actor_id=user_id, action="session.logout", resource_type="session", resource_id=session_id
                )
                tx.after_commit(lambda u=user_id, s=session_id: ctx.hub.principal_changed(u, session_id=s))


async def _record_firebase(
    ctx: AppState, *, user_id: uuid.UUID | None, subject: str | None, outcome: str, reason: str | None, ip: str | None
) -> None:
    async with ctx.db.transaction() as tx:
        await repo.insert_auth_audit(
            tx.conn, user_id=user_id, provider="firebase", subject=subject, outcome=outcome, reason=reason, ip=ip
        )
        await audit.record(
            tx.conn,
            actor_id=None,
            action="session.sign_in_failed",
            resource_type="user",
            resource_id=user_id,
            details={"method": "firebase", "reason": outcome},
        )


async def _verify_firebase(ctx: AppState, id_token: str, ip: str | None) -> FirebaseIdentity:
    if ctx.firebase is None:
        raise Unauthorized("Firebase sign-in is not configured.", code="firebase_not_configured")
    try:
        return await ctx.firebase.verify(id_token)
    except FirebaseTokenError as exc:
        await _record_firebase(ctx, user_id=None, subject=None, outcome=exc.outcome, reason=exc.reason, ip=ip)
        raise Unauthorized("The Firebase ID token is not valid.", code="invalid_id_token") from None


async def _firebase_user(ctx: AppState, identity: FirebaseIdentity, ip: str | None) -> repo.User:
    """The user behind a verified Firebase identity, created on first sign-in; every
    verification is audited, including one refused for a disabled account."""
    async with ctx.db.transaction() as tx:
        try:
            async with tx.conn.transaction():
                user, disabled = await repo.upsert_firebase_user(
                    tx.conn,
                    uid=identity.uid,
                    email=identity.email,
                    name=identity.name or identity.email or "Firebase user",
                    phone=identity.phone,
                )
        except asyncpg.UniqueViolationError:
            email_in_use = True
        else:
            email_in_use = False
            await repo.insert_role_assignment(
                tx.conn, user_id=user.id, role="customer", scope_type="global", scope_id=None, granted_by=None
            )
            if not disabled:
                await _take_up_verified(ctx, tx, user.id, identity)
        await repo.insert_auth_audit(
            tx.conn,
            user_id=None if email_in_use else user.id,
            provider="firebase",
            subject=identity.uid,
            outcome="verified",
            reason="email_in_use" if email_in_use else ("account_disabled" if disabled else None),
            ip=ip,
        )
    if email_in_use:
        raise Conflict("This email belongs to another account; sign in to it instead.", code="email_in_use")
    if disabled:
        raise Forbidden("This account is disabled.", code="account_disabled")
    return user


async def take_up_invitation(
    ctx: AppState, tx: Tx, invitation: invitations.Invitation, user_id: uuid.UUID, *, proof: str
) -> repo.RoleAssignment:
    """Give `user_id` the role an invitation holds, granted as its inviter would grant it now, once the user
    has shown they own the address it went to (`proof`: its code, or a verified Firebase address). 409 when
    the inviter is gone or may no longer give the role; the invitation then stays as it was."""
    gone = Conflict("Whoever invited you is gone; ask again.", code="inviter_gone")
    if invitation.invited_by is None:
        raise gone
    try:
        inviter = await principal_of(ctx.db, invitation.invited_by)
    except NotFound:
        raise gone from None
    try:
        assignment, _ = await grant_role_in(
            ctx,
            tx,
            actor=inviter,
            data=RoleAssignmentIn(
                user_id=user_id,
                role=invitation.role,
                scope_type=invitation.scope_type,
                scope_id=invitation.scope_id,
                history_from=invitation.history_from,
            ),
        )
    except Forbidden:
        raise Conflict(
            "Whoever invited you may no longer give this role; ask again.", code="inviter_lost_rights"
        ) from None
    await invitations.claim(tx.conn, invitation.id, user_id)
    await audit.record(
        tx.conn,
        actor_id=user_id,
        action="role_invitation.claimed",
        resource_type="role_invitation",
        resource_id=invitation.id,
        details={"proof": proof},
        where=await ctx.scopes.resolve(tx.conn, invitation.scope_type, invitation.scope_id),
    )
    return assignment


async def _take_up_verified(ctx: AppState, tx: Tx, user_id: uuid.UUID, identity: FirebaseIdentity) -> None:
    """Firebase has verified this e-mail address or phone number, which is what an invitation's code would
    prove: the roles waiting for it are the user's (those whose inviter can no longer give them, or whose
    place is gone, stay waiting)."""
    if identity.email is None and identity.phone is None:
        return
    for invitation in await invitations.waiting_for(tx.conn, email=identity.email, phone=identity.phone):
        with contextlib.suppress(Conflict, NotFound):
            await take_up_invitation(ctx, tx, invitation, user_id, proof="firebase")


async def firebase_sign_in(ctx: AppState, *, id_token: str, device: Device) -> AuthResult:
    """Exchange a Firebase ID token for Gatehouse tokens; the first sign-in creates the user."""
    identity = await _verify_firebase(ctx, id_token, device.ip)
    user = await _firebase_user(ctx, identity, device.ip)
    async with ctx.db.transaction() as tx:
        return await _open_session(ctx, tx, user, device, method="firebase")


def _principal(row: repo.PrincipalRow, session_id: uuid.UUID | None) -> Principal:
    return Principal(
        user_id=row.user.id, session_id=session_id, name=row.user.name, email=row.user.email, grants=row.grants
    )


# A Firebase bearer's user, by uid, for as long as a principal is kept (PRINCIPAL_CACHE_SECONDS): an app
# sends its token with every request, and the uid's user changes only when that account is deleted.
_FIREBASE_USERS: dict[str, tuple[uuid.UUID, float]] = {}
_FIREBASE_USERS_KEPT = 50_000


async def _firebase_bearer(ctx: AppState, token: str) -> Principal:
    """The caller behind a Firebase ID token sent as a bearer (FIREBASE_HTTP_BEARER), as the society apps
    send it: verified as `/v1/auth/firebase` verifies it (a failure is audited), the user found by the
    token's uid, or created on first use as a sign-in creates it; no session, so `logout` has nothing
    to end (the token simply expires)."""
    assert ctx.firebase is not None, "the caller checked"
    ip = context.client_ip.get()
    identity = await _verify_firebase(ctx, token, ip)
    known = _FIREBASE_USERS.get(identity.uid)
    if known is not None and known[1] > time.monotonic():
        user_id = known[0]
    else:
        async with ctx.db.connection() as conn:
            found = await repo.user_of_firebase_uid(conn, identity.uid)
        user_id = found if found is not None else (await _firebase_user(ctx, identity, ip)).id
        if len(_FIREBASE_USERS) >= _FIREBASE_USERS_KEPT:
            _FIREBASE_USERS.clear()
        _FIREBASE_USERS[identity.uid] = (user_id, time.monotonic() + ctx.settings.principal_cache_seconds)
    principal = await ctx.principals.load(user_id, None, lambda: _read_principal(ctx, user_id, None))
    if principal is None:
        raise Forbidden("This account is disabled.", code="account_disabled")
    return principal


async def _read_principal(ctx: AppState, user_id: uuid.UUID, session_id: uuid.UUID | None) -> Principal | None:
    """The user's rights from the database (with a session: while it lives); None for a disabled account
    or an ended session."""
    async with ctx.db.connection() as conn:
        if session_id is None:
            row = await repo.principal_for_user(conn, user_id)
        else:
            row = await repo.principal_for_session(conn, user_id=user_id, session_id=session_id)
    return None if row is None else _principal(row, session_id)


async def authenticate(ctx: AppState, token: str) -> Principal:
    """The caller behind an access token (or, where enabled, a Firebase ID token); 401 for any token that
    is not a live one."""
    if ctx.settings.firebase_http_bearer and ctx.firebase is not None and looks_like_firebase_token(token):
        return await _firebase_bearer(ctx, token)
    try:
        claims = ctx.tokens.verify(token)
    except TokenExpired:
        raise Unauthorized("The access token has expired; refresh it.", code="token_expired") from None
    except TokenError:
        raise Unauthorized("The access token is not valid.", code="invalid_token") from None
    principal = await ctx.principals.load(
        claims.user_id, claims.session_id, lambda: _read_principal(ctx, claims.user_id, claims.session_id)
    )
    if principal is None:
        raise Unauthorized("The session has ended; sign in again.", code="session_ended")
    return principal


async def authenticate_socket(ctx: AppState, token: str, ip: str | None) -> SignedIn:
    """A socket proves itself with an access token or, when configured, a Firebase ID token; it may stay
    until that token expires."""
    if ctx.firebase is None or not looks_like_firebase_token(token):
        principal = await authenticate(ctx, token)
        return SignedIn(principal, ctx.tokens.verify(token).expires_at)
    identity = await _verify_firebase(ctx, token, ip)
    user = await _firebase_user(ctx, identity, ip)
    async with ctx.db.connection() as conn:
        row = await repo.principal_for_user(conn, user.id)
    if row is None:
        raise Unauthorized()
    return SignedIn(_principal(row, None), identity.expires_at)


@dataclass(frozen=True, slots=True)
class SocketAuthenticator:
    """How the realtime gateway learns who a socket is, and whether it still may be."""

    ctx: AppState

    async def sign_in(self, token: str, ip: str | None) -> SignedIn:
        return await authenticate_socket(self.ctx, token, ip)

    async def reload(self, principal: Principal) -> Principal | None:
        return await reload_principal(self.ctx, principal)


async def principal_of(db: Database, user_id: uuid.UUID) -> Principal:
    """A user's rights as they stand, for commands acting as that user."""
    async with db.connection() as conn:
        row = await repo.principal_for_user(conn, user_id)
    if row is None:
        raise NotFound("No such user.")
    return _principal(row, None)


async def reload_principal(ctx: AppState, principal: Principal) -> Principal | None:
    """The same caller as it stands now; None once its session or account has ended."""
    return await _read_principal(ctx, principal.user_id, principal.session_id)


# Roles and accounts ---------------------------------------------------------------------


async def grant_role(ctx: AppState, *, actor: Principal, data: RoleAssignmentIn) -> tuple[repo.RoleAssignment, bool]:
    """Give a user a role on a scope; admins anywhere, scope admins inside their own scope."""
    async with ctx.db.transaction() as tx:
        return await grant_role_in(ctx, tx, actor=actor, data=data)


async def grantable(
    ctx: AppState, conn: asyncpg.Connection, *, actor: Principal, role: str, scope_type: str, scope_id: uuid.UUID | None
) -> Scope:
    """The scope, once `role` is one held on its type and `actor` may hand it out there: 422 for a role or
    scope type no domain declares or that do not pair, 404 for no such scope, 403 for the wrong caller."""
    held_on = ctx.rules.scope_type_of(role)
    if held_on is None:
        raise Unprocessable(details=[{"field": "role", "message": "No such role.", "type": "enum"}])
    if scope_type not in ctx.scopes.names:
        raise Unprocessable(details=[{"field": "scope_type", "message": "No such scope type.", "type": "enum"}])
    if held_on != scope_type:
        raise Unprocessable(f"The role {role} takes a {held_on} scope.", code="invalid_scope")
    if (scope_type == "global") != (scope_id is None):
        raise Unprocessable("scope_id is required for every scope but global.", code="invalid_scope")
    scope = await ctx.scopes.resolve(conn, scope_type, scope_id)
    if scope is None:
        raise NotFound("No such scope.", code="scope_not_found")
    if not ctx.rules.may_grant(actor, role, scope):
        raise Forbidden()
    return scope


async def managed_place(
    ctx: AppState, conn: asyncpg.Connection, *, actor: Principal, scope_type: str, scope_id: uuid.UUID | None
) -> Scope:
    """A place whose people `actor` manages (its lists, invitations and audit log): 404 for no such place,
    403 unless admin or holding a role that hands out roles there or on a place it sits inside."""
    scope = await ctx.scopes.resolve(conn, scope_type, scope_id)
    if scope is None:
        raise NotFound("No such place.", code="scope_not_found")
    if not ctx.rules.manages(actor, scope):
        raise Forbidden()
    return scope


async def grant_role_in(
    ctx: AppState, tx: Tx, *, actor: Principal, data: RoleAssignmentIn
) -> tuple[repo.RoleAssignment, bool]:
    """`grant_role` inside a transaction another use case already holds (e.g. approving a resident)."""
    scope = await grantable(
        ctx, tx.conn, actor=actor, role=data.role, scope_type=data.scope_type, scope_id=data.scope_id
    )
    if not await repo.user_exists(tx.conn, data.user_id):
        raise NotFound("No such user.")
    assignment, created = await repo.insert_role_assignment(
        tx.conn,
        user_id=data.user_id,
        role=data.role,
        scope_type=data.scope_type,
        scope_id=data.scope_id,
        granted_by=actor.user_id,
        history_from=data.history_from,
        fresh_start=ctx.rules.starts_fresh(data.role),
        within=list(scope.parents.values()),
    )
    if created:
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=scope,
            action="role.granted",
            resource_type="role_assignment",
            resource_id=assignment.id,
            details={"role": data.role, "user_id": data.user_id},
        )
        ctx.outbox.publish(tx, user_room(data.user_id), "role_granted", assignment)
        tx.after_commit(lambda: ctx.hub.principal_changed(data.user_id))
    return assignment, created


async def set_history_from(
    ctx: AppState, *, actor: Principal, assignment_id: uuid.UUID, history_from: dt.datetime | None
) -> repo.RoleAssignment:
    """Let a role holder see more (or less) of its scope's past; whoever may grant the role decides."""
    async with ctx.db.transaction() as tx:
        assignment = await repo.get_role_assignment(tx.conn, assignment_id)
        if assignment is None:
            raise NotFound("No such role assignment.")
        scope = await ctx.scopes.resolve(tx.conn, assignment.scope_type, assignment.scope_id)
        if scope is None or not ctx.rules.may_grant(actor, assignment.role, scope):
            raise NotFound("No such role assignment.")
        updated = await repo.set_history_from(tx.conn, assignment_id, history_from)
        assert updated is not None, "the row is read in this transaction"
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=scope,
            action="role.history_changed",
            resource_type="role_assignment",
            resource_id=assignment_id,
            details={"history_from": history_from, "was": assignment.history_from},
        )
        tx.after_commit(lambda: ctx.hub.principal_changed(assignment.user_id))
        return updated


async def revoke_role(ctx: AppState, *, actor: Principal, assignment_id: uuid.UUID) -> None:
    """Take a role away; the user's open sockets leave the rooms it opened."""
    async with ctx.db.transaction() as tx:
        assignment = await repo.get_role_assignment(tx.conn, assignment_id)
        if assignment is None:
            raise NotFound("No such role assignment.")
        scope = await ctx.scopes.resolve(tx.conn, assignment.scope_type, assignment.scope_id)
        if scope is None or not ctx.rules.may_grant(actor, assignment.role, scope):
            raise NotFound("No such role assignment.")
        await repo.delete_role_assignment(tx.conn, assignment_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=scope,
            action="role.revoked",
            resource_type="role_assignment",
            resource_id=assignment_id,
            details={"role": assignment.role, "user_id": assignment.user_id},
        )
        ctx.outbox.publish(tx, user_room(assignment.user_id), "role_revoked", assignment)
        tx.after_commit(lambda: ctx.hub.principal_changed(assignment.user_id))


async def end_session(ctx: AppState, tx: Tx, *, session_id: uuid.UUID, reason: str) -> None:
    """End one session inside another use case's transaction (its device passed to someone else):
    its refresh tokens stop working and its sockets close once the transaction commits."""
    user_id = await repo.revoke_session(tx.conn, session_id=session_id, reason=reason)
    if user_id is None:
        return
    log.info("session_ended", user_id=str(user_id), session_id=str(session_id), reason=reason)
    tx.after_commit(lambda: ctx.hub.principal_changed(user_id, session_id=session_id))


async def replace_password(
    ctx: AppState,
    tx: Tx,
    *,
    user_id: uuid.UUID,
    password_hash: str,
    reason: str,
    action: str,
    keep: uuid.UUID | None = None,
) -> None:
    """A new password for the account: its sessions end (all, or all but `keep`), their sockets with them
    once `tx` commits, and the audit says so with `action`."""
    await repo.set_password(tx.conn, user_id=user_id, password_hash=password_hash)
    await repo.revoke_user_sessions(tx.conn, user_id=user_id, reason=reason, keep=keep)
    await audit.record(tx.conn, actor_id=user_id, action=action, resource_type="user", resource_id=user_id)
    tx.after_commit(lambda: ctx.hub.principal_changed(user_id))


async def set_disabled(ctx: AppState, *, actor: Principal, user_id: uuid.UUID, disabled: bool) -> None:
    """Disable or re-enable an account (admins); disabling ends its sessions and sockets."""
    require_admin(actor)
    async with ctx.db.transaction() as tx:
        await set_disabled_in(ctx, tx, actor=actor, user_id=user_id, disabled=disabled)


async def set_disabled_in(ctx: AppState, tx: Tx, *, actor: Principal, user_id: uuid.UUID, disabled: bool) -> None:
    """`set_disabled` inside a caller's transaction (an admin's edit of the account, say)."""
    if disabled and user_id == actor.user_id:
        raise Conflict("You cannot disable your own account.", code="cannot_disable_self")
    if not await repo.set_disabled(tx.conn, user_id=user_id, disabled=disabled):
        raise NotFound("No such user.")
    if disabled:
        await repo.revoke_user_sessions(tx.conn, user_id=user_id, reason="disabled")
    await audit.record(
        tx.conn,
        actor_id=actor.user_id,
        action="user.disabled" if disabled else "user.enabled",
        resource_type="user",
        resource_id=user_id,
    )
    tx.after_commit(lambda: ctx.hub.principal_changed(user_id))


class AccountExists(Exception):
    """`create_admin` for an e-mail that already has an account, without leave to reset its password."""


async def create_admin(
    db: Database, passwords: Passwords, *, email: str, password: str, name: str, reset_password: bool
) -> repo.User:
    """The first admin (or another), from the command line. An existing account is refused unless
    `reset_password`: then its password is replaced, its sessions end and it becomes admin, audited."""
    password_hash = await passwords.hash(password)
    async with db.transaction() as tx:
        user = await repo.insert_user(tx.conn, email=email, name=name, phone=None, password_hash=password_hash)
        if user is None:
            if not reset_password:
                raise AccountExists(email)
            found = await repo.credentials_by_email(tx.conn, email)
            assert found is not None, "insert_user found the e-mail taken"
            user = found.user
            await repo.set_password(tx.conn, user_id=user.id, password_hash=password_hash)
            await repo.revoke_user_sessions(tx.conn, user_id=user.id, reason="password_reset")
            await audit.record(
                tx.conn,
                actor_id=None,
                action="user.password_reset_by_operator",
                resource_type="user",
                resource_id=user.id,
            )
        await repo.insert_role_assignment(
            tx.conn, user_id=user.id, role="admin", scope_type="global", scope_id=None, granted_by=None
        )
        await audit.record(tx.conn, actor_id=None, action="admin.created", resource_type="user", resource_id=user.id)
        return user


async def profile(ctx: AppState, principal: Principal) -> dict[str, object]:
    """Who the caller is and where its roles apply, named as a home screen shows them: a resident's flat
    with its block, complex and society; a guard's society and gate; staff's shop and its mall."""
    async with ctx.db.connection() as conn:
        user = await repo.get_user(conn, principal.user_id)
        if user is None:
            raise NotFound("No such user.")
        places = {
            scope_type: await ctx.scopes.describe(
                conn,
                scope_type,
                sorted({g.scope_id for g in principal.grants if g.scope_type == scope_type and g.scope_id}),
            )
            for scope_type in ("flat", "society", "mall", "shop")
        }
        posts = {
            scope_type: await ctx.scopes.posts(conn, scope_type, principal.user_id, sorted(named))
            for scope_type, named in places.items()
        }

    def refs(scope_type: str) -> list[dict[str, object]]:
        named = places[scope_type]
        return [
            {
                "id": g.scope_id,
                "role": g.role,
                "name": named[g.scope_id].name if g.scope_id in named else None,
                "within": named[g.scope_id].within if g.scope_id in named else (),
                "post": posts[scope_type].get(g.scope_id),
            }
            for g in principal.grants
            if g.scope_type == scope_type and g.scope_id is not None
        ]

    return {
        "user": user,
        "roles": [{"role": g.role, "scope_type": g.scope_type, "scope_id": g.scope_id} for g in principal.grants],
        "flats": refs("flat"),
        "societies": refs("society"),
        "malls": refs("mall"),
        "shops": refs("shop"),
    }
