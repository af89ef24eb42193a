"""The identity domain: accounts, sign-in, sessions and role assignments."""

from __future__ import annotations

from app.identity import demo
from app.identity.routes import routes
from app.identity.service import SocketAuthenticator
from app.platform.modules import DomainModule, Tag
from app.platform.security.permissions import ADMIN, Role
from app.platform.security.scopes import GLOBAL

MODULE = DomainModule(
    name="identity",
    routes=routes,
    roles=[Role(ADMIN, GLOBAL), Role("customer", GLOBAL)],
    tags=[
        Tag("auth", "Sign-up, sign-in, token refresh, logout and password reset"),
        Tag("profile", "Who the caller is and where its roles apply"),
        Tag("admin", "Role assignments and accounts"),
    ],
    seed_demo=demo.seed,
    authenticator=SocketAuthenticator,
)
