"""What a domain adds to the platform, declared once in its `module.py`.

`app/main.py` lists the installed modules; the app's routes, roles, scope
types, room rules, jobs, demo data and OpenAPI tags are all read from that
list, so adding a domain never touches `app/platform/`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from starlette.routing import BaseRoute

from app.platform.jobs import Job, Schedule
from app.platform.realtime.gateway import Authenticator
from app.platform.security.permissions import Role, RoomType, Rules
from app.platform.security.scopes import Scopes, ScopeType
from app.platform.state import AppState

# Every demo account's password, so one line tells a new user how to sign in as anyone.
DEMO_PASSWORD = "demo-password-1"


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """Someone `gatehouse seed-demo` made, to print for the person trying the system: the e-mail to sign in
    with (the password is DEMO_PASSWORD), or for a script, what it shows instead."""

    role: str
    sign_in: str
    where: str


@dataclass(frozen=True, slots=True)
class Tag:
    """An OpenAPI tag: a group of operations and what they are for."""

    name: str
    description: str


@dataclass(frozen=True, slots=True)
class EventType:
    """An event a domain emits: its name, the room types it goes to, and the type of its `data` (the
    resource as the HTTP API returns it). The AsyncAPI document is built from these."""

    name: str
    rooms: tuple[str, ...]
    payload: type
    summary: str


@dataclass(frozen=True, slots=True)
class DomainModule:
    name: str
    routes: Sequence[BaseRoute] = ()
    roles: Sequence[Role] = ()
    scope_types: Sequence[ScopeType] = ()
    room_types: Sequence[RoomType] = ()
    jobs: Sequence[Job] = ()
    schedules: Sequence[Schedule] = ()
    tags: Sequence[Tag] = ()
    events: Sequence[EventType] = ()
    # Paths that take a file: their bodies may reach UPLOAD_MAX_BYTES rather than MAX_BODY_BYTES.
    upload_paths: Sequence[str] = ()
    # Paths another service calls, not people (signed webhooks): outside the general per-address limit,
    # which a provider sending from a few addresses for every shop would soon reach.
    webhook_paths: Sequence[str] = ()
    # Loads demo data (idempotently) and returns who can sign in; modules run in list order.
    seed_demo: Callable[[AppState], Awaitable[Sequence[DemoAccount]]] | None = None
    # The one module that knows users provides how sockets authenticate.
    authenticator: Callable[[AppState], Authenticator] | None = None


@dataclass(frozen=True, slots=True)
class Installed:
    """Everything the installed modules declared, merged; a name declared twice is an error."""

    modules: tuple[DomainModule, ...]
    routes: tuple[BaseRoute, ...] = field(default=())

    @classmethod
    def of(cls, modules: Iterable[DomainModule]) -> Installed:
        listed = tuple(modules)
        names = [m.name for m in listed]
        if len(set(names)) != len(names):
            raise ValueError(f"a module is listed twice: {names}")
        if sum(m.authenticator is not None for m in listed) != 1:
            raise ValueError("exactly one installed module must provide the socket authenticator")
        return cls(listed, tuple(route for m in listed for route in m.routes))

    def rules(self) -> Rules:
        return Rules((r for m in self.modules for r in m.roles), (r for m in self.modules for r in m.room_types))

    def scopes(self) -> Scopes:
        return Scopes(s for m in self.modules for s in m.scope_types)

    def jobs(self) -> list[Job]:
        return [j for m in self.modules for j in m.jobs]

    def schedules(self) -> list[Schedule]:
        return [s for m in self.modules for s in m.schedules]

    def tags(self) -> list[Tag]:
        return [t for m in self.modules for t in m.tags]

    def upload_paths(self) -> list[str]:
        return [p for m in self.modules for p in m.upload_paths]

    def webhook_paths(self) -> list[str]:
        return [p for m in self.modules for p in m.webhook_paths]

    def events(self) -> list[EventType]:
        found = [e for m in self.modules for e in m.events]
        names = [e.name for e in found]
        if len(set(names)) != len(names):
            raise ValueError(f"an event is declared twice: {sorted(n for n in names if names.count(n) > 1)}")
        return found

    def authenticator(self, state: AppState) -> Authenticator:
        provider = next(m.authenticator for m in self.modules if m.authenticator is not None)
        return provider(state)
