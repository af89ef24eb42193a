"""The identity domain: accounts, sign-in, sessions and role assignments."""

from __future__ import annotations

from app.identity import demo, repo
from app.identity.addresses.routes import routes as address_routes
from app.identity.audit_log.routes import routes as audit_routes
from app.identity.invitations import service as invitations
from app.identity.invitations.routes import routes as invitation_routes
from app.identity.notifications.routes import routes as notification_routes
from app.identity.people.routes import routes as people_routes
from app.identity.resets import RESET_EMAIL, send_reset_code
from app.identity.routes import routes
from app.identity.service import SocketAuthenticator
from app.platform.jobs import Job
from app.platform.modules import DomainModule, EventType, Tag
from app.platform.realtime.rooms import USER
from app.platform.security.permissions import ADMIN, Role
from app.platform.security.scopes import GLOBAL

MODULE = DomainModule(
    name="identity",
    routes=[*routes, *people_routes, *address_routes, *audit_routes, *invitation_routes, *notification_routes],
    roles=[Role(ADMIN, GLOBAL), Role("customer", GLOBAL)],
    # Short backoff: someone is waiting for this email; past its TTL the reset is dead anyway.
    jobs=[
        Job(RESET_EMAIL, send_reset_code, max_attempts=5, backoff=2.0),
        Job(invitations.SEND_JOB, invitations.send_code, max_attempts=8, backoff=5.0),
    ],
    tags=[
        Tag("auth", "Sign-up, sign-in, token refresh, logout and password reset"),
        Tag("profile", "Who the caller is and where its roles apply"),
        Tag("admin", "Role assignments and accounts"),
    ],
    events=[
        EventType("role_granted", (USER,), repo.RoleAssignment, "The user was given a role"),
        EventType("role_revoked", (USER,), repo.RoleAssignment, "A role was taken from the user"),
    ],
    seed_demo=demo.seed,
    authenticator=SocketAuthenticator,
)
