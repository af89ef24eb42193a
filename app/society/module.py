"""The society domain: the hierarchy of a gated society, its people, and its gate."""

from __future__ import annotations

from app.platform.jobs import Job, Schedule
from app.platform.modules import DomainModule, EventType, Tag
from app.platform.realtime.rooms import USER
from app.platform.security.permissions import Role, RoomType
from app.platform.security.scopes import ScopeType
from app.society import demo
from app.society.gate import service as gate
from app.society.gate.routes import routes as gate_routes
from app.society.hierarchy import service as hierarchy
from app.society.hierarchy.routes import routes as hierarchy_routes
from app.society.residents import repo as residents_repo
from app.society.residents.routes import routes as resident_routes
from app.society.rooms import FLAT, SOCIETY
from app.society.visitors import alerts
from app.society.visitors import repo as visitors_repo
from app.society.visitors import service as visitors
from app.society.visitors.routes import routes as visitor_routes

MODULE = DomainModule(
    name="society",
    routes=[*hierarchy_routes, *visitor_routes, *resident_routes, *gate_routes],
    roles=[
        Role("society_admin", SOCIETY, granted_by=("society_admin",)),
        Role("guard", SOCIETY, granted_by=("society_admin",)),
        Role("resident", FLAT, granted_by=("society_admin",), fresh_start=True),
    ],
    scope_types=[
        ScopeType(SOCIETY, hierarchy.society_scope, hierarchy.describe_societies, gate.posts_of),
        ScopeType(FLAT, hierarchy.flat_scope, hierarchy.describe_flats),
    ],
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
        Tag("gate", "Gate devices, guards' PINs, and signing in on a device"),
    ],
    events=[
        EventType(
            "visitor_request", (FLAT, SOCIETY), visitors_repo.Visitor, "A guard registered a visitor for the flat"
        ),
        EventType("request_approved", (SOCIETY, FLAT), visitors_repo.Visitor, "A resident let the visitor in"),
        EventType("request_denied", (SOCIETY, FLAT), visitors_repo.Visitor, "A resident turned the visitor away"),
        EventType("request_escalated", (SOCIETY,), visitors_repo.Visitor, "Nobody answered a request in time"),
        EventType("expected_visitor", (SOCIETY,), visitors_repo.Visitor, "A resident invited a visitor"),
        EventType("invite_updated", (SOCIETY, FLAT), visitors_repo.Visitor, "A resident changed an invitation"),
        EventType("invite_cancelled", (SOCIETY, FLAT), visitors_repo.Visitor, "A resident called an invitation off"),
        EventType("visitor_checked_in", (FLAT, SOCIETY), visitors_repo.Visit, "The guard let the visitor in"),
        EventType("visitor_checked_out", (FLAT, SOCIETY), visitors_repo.Visit, "The guard let the visitor out"),
        EventType(
            "resident_request_created", (SOCIETY,), residents_repo.ResidentRequest, "Someone asked to join a flat"
        ),
        EventType(
            "resident_request_updated", (USER, SOCIETY), residents_repo.ResidentRequest, "The society admin decided"
        ),
    ],
    seed_demo=demo.seed,
)
