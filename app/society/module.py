"""The society domain: the hierarchy of a gated society, its people, and its gate."""

from __future__ import annotations

from app.platform.jobs import Job, Schedule
from app.platform.modules import DomainModule, Tag
from app.platform.security.permissions import Role, RoomType
from app.platform.security.scopes import ScopeType
from app.society import demo
from app.society.hierarchy import service as hierarchy
from app.society.hierarchy.routes import routes as hierarchy_routes
from app.society.residents.routes import routes as resident_routes
from app.society.rooms import FLAT, SOCIETY
from app.society.visitors import alerts
from app.society.visitors import service as visitors
from app.society.visitors.routes import routes as visitor_routes

MODULE = DomainModule(
    name="society",
    routes=[*hierarchy_routes, *visitor_routes, *resident_routes],
    roles=[
        Role("society_admin", SOCIETY, granted_by=("society_admin",)),
        Role("guard", SOCIETY, granted_by=("society_admin",)),
        Role("resident", FLAT, granted_by=("society_admin",), fresh_start=True),
    ],
    scope_types=[ScopeType(SOCIETY, hierarchy.society_scope), ScopeType(FLAT, hierarchy.flat_scope)],
    room_types=[
        RoomType(FLAT, roles=("resident",)),
        RoomType(SOCIETY, roles=("guard", "society_admin")),
    ],
    jobs=[
        Job("society.escalate_requests", visitors.escalate, max_attempts=3),
        Job("society.visit_partitions", visitors.keep_partitions),
        *alerts.JOBS,
    ],
    schedules=[
        Schedule("society.escalate_requests", every=lambda settings: settings.escalation_interval),
        Schedule("society.visit_partitions", every=lambda settings: 24 * 3600),
    ],
    tags=[
        Tag("society", "Cities, societies, complexes, blocks and flats"),
        Tag("visitors", "Walk-ins, answers, invitations and expected visitors"),
        Tag("visits", "Check-in, check-out and visit history"),
        Tag("residents", "Requests to join a flat, and devices to push to"),
    ],
    seed_demo=demo.seed,
)
