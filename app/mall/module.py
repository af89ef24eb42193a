"""The mall domain: a shopping mall, its shops and its parking, watched live by its staff."""

from __future__ import annotations

from app.mall import demo
from app.mall.attendance import repo as attendance_repo
from app.mall.attendance.routes import routes as attendance_routes
from app.mall.cinema import repo as cinema_repo
from app.mall.cinema import service as cinema
from app.mall.cinema.routes import routes as cinema_routes
from app.mall.issues import repo as issues_repo
from app.mall.issues.routes import routes as issue_routes
from app.mall.offers.routes import routes as offer_routes
from app.mall.overview.routes import routes as overview_routes
from app.mall.parking import repo as parking_repo
from app.mall.parking.routes import routes as parking_routes
from app.mall.places import service as places
from app.mall.places.routes import routes as place_routes
from app.mall.rooms import MALL, SHOP
from app.mall.shop_visits import repo as shop_visits_repo
from app.mall.shop_visits.routes import routes as shop_visit_routes
from app.mall.staff.routes import routes as staff_routes
from app.platform.jobs import Job, Schedule
from app.platform.modules import DomainModule, EventType, Tag
from app.platform.realtime.rooms import USER
from app.platform.security.permissions import Role, RoomType
from app.platform.security.scopes import ScopeType

EXPIRE_HOLDS = "mall.expire_ticket_holds"

MODULE = DomainModule(
    name="mall",
    routes=[
        *place_routes,
        *parking_routes,
        *cinema_routes,
        *offer_routes,
        *attendance_routes,
        *staff_routes,
        *shop_visit_routes,
        *overview_routes,
        *issue_routes,
    ],
    jobs=[Job(EXPIRE_HOLDS, cinema.expire_holds), *cinema.PAYMENT_JOBS],
    schedules=[Schedule(EXPIRE_HOLDS, every=lambda settings: 30)],
    roles=[
        Role("mall_admin", MALL, granted_by=("mall_admin",)),
        Role("security", MALL, granted_by=("mall_admin",)),
        Role("shop_manager", SHOP, granted_by=("mall_admin",)),
        Role("employee", SHOP, granted_by=("mall_admin", "shop_manager")),
    ],
    scope_types=[
        ScopeType(MALL, places.mall_scope, places.describe_malls),
        ScopeType(SHOP, places.shop_scope, places.describe_shops),
    ],
    room_types=[
        RoomType(MALL, roles=("security", "mall_admin")),
        RoomType(SHOP, roles=("employee", "shop_manager"), parent_roles={MALL: ("mall_admin",)}),
    ],
    tags=[
        Tag("mall", "Malls and their shops"),
        Tag("parking", "Cars entering and leaving a mall's parking, and what they pay"),
        Tag("cinema", "Cinemas, movies, showings and tickets"),
        Tag("offers", "Discounts at a mall's shops for a while"),
        Tag("attendance", "Staff clocking in and out, and the hours they worked"),
        Tag("issues", "Issues reported in a mall, assigned to staff and moved along until closed"),
    ],
    events=[
        EventType("car_entered", (MALL,), parking_repo.CarVisit, "Security recorded a car coming in"),
        EventType("car_exited", (MALL,), parking_repo.CarVisit, "A car left; `cost` is what it paid"),
        EventType("car_visit_corrected", (MALL,), parking_repo.CarVisit, "An admin corrected a visit and its cost"),
        EventType("car_visit_deleted", (MALL,), parking_repo.CarVisit, "An admin deleted a visit recorded by mistake"),
        EventType("showing_updated", (MALL,), cinema_repo.Showing, "A showing was scheduled, or seats taken or freed"),
        EventType(
            "ticket_checkout",
            (USER,),
            cinema_repo.TicketCheckout,
            "The user's seats were reserved, paid, cancelled or refunded",
        ),
        EventType("shop_visited", (SHOP,), shop_visits_repo.ShopVisit, "A customer checked in at the shop"),
        EventType("attendance_updated", (SHOP, MALL), attendance_repo.Shift, "Someone clocked in or out"),
        EventType("issue_reported", (MALL,), issues_repo.Issue, "Someone reported an issue"),
        EventType("issue_updated", (MALL,), issues_repo.Issue, "An issue was assigned or moved"),
        EventType("issue_deleted", (MALL,), issues_repo.Issue, "An admin deleted an issue, as it was"),
        EventType("issue_assigned", (USER,), issues_repo.Issue, "An issue was assigned to the user"),
        EventType("model_issue_detected", (MALL,), issues_repo.Issue, "A camera detected a new issue"),
    ],
    seed_demo=demo.seed,
)
