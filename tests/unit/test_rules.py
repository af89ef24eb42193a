"""The permission engine reads what the modules declared: grants and room rules."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from app.main import DOMAINS
from app.platform.modules import DomainModule, Installed
from app.platform.realtime.rooms import RoomError, parse_room, user_room
from app.platform.security.permissions import EVERYTHING, Access, Grant, Principal, Role, RoomType, Rules
from app.platform.security.scopes import Scope

SOCIETY, FLAT, MALL, SHOP = (uuid.uuid4() for _ in range(4))
RULES = Rules(
    [
        Role("admin", "global"),
        Role("society_admin", "society", granted_by=("society_admin",)),
        Role("resident", "flat", granted_by=("society_admin",), fresh_start=True),
        Role("mall_admin", "mall", granted_by=("mall_admin",)),
        Role("employee", "shop", granted_by=("mall_admin",)),
    ],
    [
        RoomType("flat", roles=("resident",), parent_roles={"society": ("society_admin",)}),
        RoomType("shop", roles=("employee",), parent_roles={"mall": ("mall_admin",)}),
    ],
)


def _who(*grants: tuple) -> Principal:
    return Principal(uuid.uuid4(), None, "someone", None, tuple(Grant(*g) for g in grants))


def test_a_scope_admin_grants_its_roles_inside_its_scope_only() -> None:
    meera = _who(("society_admin", "society", SOCIETY))
    flat = Scope("flat", FLAT, {"society": SOCIETY})
    elsewhere = Scope("flat", uuid.uuid4(), {"society": uuid.uuid4()})
    assert RULES.may_grant(meera, "resident", flat)
    assert not RULES.may_grant(meera, "resident", elsewhere)
    assert not RULES.may_grant(meera, "admin", Scope("global", None))
    assert not RULES.may_grant(meera, "employee", Scope("shop", SHOP, {"mall": MALL}))
    assert not RULES.may_grant(meera, "no_such_role", flat)


def test_room_rules_take_roles_on_the_scope_or_its_parent() -> None:
    shop = Scope("shop", SHOP, {"mall": MALL})
    assert RULES.access(_who(("employee", "shop", SHOP)), shop) == EVERYTHING
    assert RULES.access(_who(("mall_admin", "mall", MALL)), shop) == EVERYTHING
    assert RULES.access(_who(("mall_admin", "mall", uuid.uuid4())), shop) is None
    assert RULES.access(_who(("resident", "flat", FLAT)), shop) is None
    assert RULES.access(_who(("admin", "global", None)), shop) == EVERYTHING
    assert RULES.access(_who(("employee", "shop", SHOP)), Scope("mall", MALL)) is None  # no such room type


def test_a_fresh_start_role_sees_the_past_from_its_grant_unless_another_role_sees_more() -> None:
    moved_in = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    flat = Scope("flat", FLAT, {"society": SOCIETY})
    assert RULES.starts_fresh("resident")
    assert not RULES.starts_fresh("society_admin")
    tenant = _who(("resident", "flat", FLAT, moved_in))
    assert RULES.access(tenant, flat) == Access(moved_in)
    assert tenant.history_from("resident", "flat") == {FLAT: moved_in}
    also_admin = _who(("resident", "flat", FLAT, moved_in), ("society_admin", "society", SOCIETY))
    assert RULES.access(also_admin, flat) == EVERYTHING


def test_a_role_granted_by_an_undeclared_role_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="undeclared"):
        Rules([Role("guard", "society", granted_by=("captain",))], [])
    with pytest.raises(ValueError, match="twice"):
        Rules([Role("guard", "society"), Role("guard", "flat")], [])


def test_exactly_one_module_authenticates_sockets() -> None:
    with pytest.raises(ValueError, match="authenticator"):
        Installed.of([DomainModule(name="lonely")])


def test_the_installed_modules_declare_the_society_rooms_and_roles() -> None:
    rules = DOMAINS.rules()
    assert {"flat", "society"} <= rules.room_types
    assert rules.scope_type_of("resident") == "flat" and rules.scope_type_of("guard") == "society"
    assert {"global", "society", "flat"} <= DOMAINS.scopes().names


def test_room_names_parse_only_for_known_types_and_uuids() -> None:
    user = uuid.uuid4()
    assert parse_room(user_room(user), set()) == ("user", user)
    assert parse_room(f"flat:{FLAT}", {"flat"}) == ("flat", FLAT)
    for bad in (f"mall:{MALL}", "flat:not-a-uuid", "flat", None, 7, "flat:" + "1" * 80):
        with pytest.raises(RoomError):
            parse_room(bad, {"flat"})


def test_limits_count_an_ipv6_client_by_its_64_and_an_account_by_its_hashed_email() -> None:
    from app.platform.ratelimit import account_key, client_key

    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert account_key(" Asha@Example.com ") == account_key("asha@example.com")
    assert "asha" not in account_key("asha@example.com")
