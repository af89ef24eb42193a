"""Gate devices and guards' PINs. A society admin registers the tablet at a gate (its secret is shown once)
and sets each guard a 6-digit PIN; on that tablet a guard picks their name and types the PIN to sign in,
with no password. Both the device's secret and the PIN must be right; failures are limited per device and
per guard (RATE_LIMIT_ACCOUNT each, 429 past it), audited, and answered alike whichever was wrong."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

import asyncpg

from app.identity import service as identity
from app.identity.people import service as people
from app.platform import audit
from app.platform.http import NotFound, Unauthorized, Unprocessable
from app.platform.security.permissions import Principal, require
from app.platform.security.scopes import Scope
from app.platform.state import AppState
from app.society.gate import repo
from app.society.gate.schemas import DeviceCallIn, GateDeviceIn, GuardPatch, PinIn, PinSignInIn
from app.society.hierarchy import service as hierarchy
from app.society.rooms import SOCIETY

ADMINS = ("society_admin",)


@dataclass(frozen=True, slots=True)
class RegisteredDevice:
    """A device as registered: `secret` is in this answer only; the device keeps it."""

    device: repo.GateDevice
    secret: str


@dataclass(frozen=True, slots=True)
class RosterGuard:
    user_id: uuid.UUID
    name: str
    image_url: str | None
    has_pin: bool


@dataclass(frozen=True, slots=True)
class Guard:
    """A guard of the society as its admins manage them."""

    user_id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    image_url: str | None
    disabled: bool
    gate: str | None
    has_pin: bool
    since: dt.datetime


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


async def _society(conn: asyncpg.Connection, actor: Principal, society_id: uuid.UUID) -> None:
    if await hierarchy.society_scope(conn, society_id) is None:
        raise NotFound("No such society.")
    require(actor, ADMINS, "society", society_id)


async def register(ctx: AppState, *, actor: Principal, society_id: uuid.UUID, data: GateDeviceIn) -> RegisteredDevice:
    secret = "ghd_" + secrets.token_urlsafe(32)
    async with ctx.db.transaction() as tx:
        await _society(tx.conn, actor, society_id)
        device = await repo.insert_device(
            tx.conn,
            society_id=society_id,
            name=data.name,
            gate=data.gate,
            secret_hash=_hash(secret),
            created_by=actor.user_id,
        )
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(SOCIETY, society_id),
            action="gate_device.registered",
            resource_type="gate_device",
            resource_id=device.id,
        )
    return RegisteredDevice(device, secret)


async def devices(ctx: AppState, *, actor: Principal, society_id: uuid.UUID) -> list[repo.GateDevice]:
    async with ctx.db.connection() as conn:
        await _society(conn, actor, society_id)
        return await repo.devices_of(conn, society_id)


async def revoke(ctx: AppState, *, actor: Principal, device_id: uuid.UUID) -> None:
    """A lost or replaced tablet: nobody signs in on it any more (sessions already open run out as usual)."""
    async with ctx.db.transaction() as tx:
        device = await repo.get_device(tx.conn, device_id)
        if device is None:
            raise NotFound("No such device.")
        require(actor, ADMINS, "society", device.society_id)
        await repo.revoke_device(tx.conn, device_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(SOCIETY, device.society_id),
            action="gate_device.revoked",
            resource_type="gate_device",
            resource_id=device_id,
        )


async def set_pin(ctx: AppState, *, actor: Principal, society_id: uuid.UUID, user_id: uuid.UUID, data: PinIn) -> None:
    """Set (or replace) a guard's PIN at this society; only for someone who guards it."""
    pin_hash = await ctx.passwords.hash(data.pin)
    async with ctx.db.transaction() as tx:
        await _society(tx.conn, actor, society_id)
        guards = await people.holding(tx.conn, role="guard", scope_type="society", scope_id=society_id)
        if user_id not in {g.user_id for g in guards}:
            raise Unprocessable(
                "Only a guard of this society gets a PIN here.",
                code="not_a_guard",
                details=[{"field": "user_id", "message": "not a guard of this society", "type": "not_a_guard"}],
            )
        await repo.set_pin(tx.conn, user_id=user_id, society_id=society_id, pin_hash=pin_hash, set_by=actor.user_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(SOCIETY, society_id),
            action="guard.pin_set",
            resource_type="user",
            resource_id=user_id,
            details={"society_id": society_id},
        )


async def _guards(conn: asyncpg.Connection, society_id: uuid.UUID) -> list[Guard]:
    holders = await people.holding(conn, role="guard", scope_type="society", scope_id=society_id)
    pinned = await repo.with_pins(conn, society_id, [h.user_id for h in holders])
    posted = await repo.posts(conn, society_id)
    return [
        Guard(
            h.user_id,
            h.name,
            h.email,
            h.phone,
            h.image_url,
            h.disabled,
            posted.get(h.user_id),
            h.user_id in pinned,
            h.created_at,
        )
        for h in holders
    ]


async def guards(ctx: AppState, *, actor: Principal, society_id: uuid.UUID) -> list[Guard]:
    """The society's guards, by name, with the gate each works at and whether they have a PIN (its admins)."""
    async with ctx.db.connection() as conn:
        await _society(conn, actor, society_id)
        return await _guards(conn, society_id)


async def post_guard(
    ctx: AppState, *, actor: Principal, society_id: uuid.UUID, user_id: uuid.UUID, data: GuardPatch
) -> Guard:
    """Post a guard at a gate (its admins); 404 for someone who does not guard this society."""
    async with ctx.db.transaction() as tx:
        await _society(tx.conn, actor, society_id)
        found = {g.user_id: g for g in await _guards(tx.conn, society_id)}
        if user_id not in found:
            raise NotFound("No such guard here.")
        await repo.set_post(tx.conn, user_id=user_id, society_id=society_id, gate=data.gate, set_by=actor.user_id)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            where=Scope(SOCIETY, society_id),
            action="guard.posted",
            resource_type="user",
            resource_id=user_id,
            details={"society_id": society_id, "gate": data.gate},
        )
        return {g.user_id: g for g in await _guards(tx.conn, society_id)}[user_id]


async def posts_of(conn: asyncpg.Connection, user_id: uuid.UUID, society_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The gate a guard works at in each of these societies (for their profile), of those that post them."""
    return await repo.posts_of(conn, user_id, society_ids)


async def _device(conn: asyncpg.Connection, device_id: uuid.UUID, secret: str) -> repo.GateDevice:
    device = await repo.live_device(conn, device_id, _hash(secret))
    if device is None:
        raise Unauthorized("This device is not registered here, or was revoked.", code="invalid_device")
    return device


async def roster(ctx: AppState, *, device_id: uuid.UUID, data: DeviceCallIn) -> list[RosterGuard]:
    """What the device shows to pick from: its society's guards who may sign in, and whether they have a PIN."""
    async with ctx.db.connection() as conn:
        device = await _device(conn, device_id, data.secret)
        guards = [
            g
            for g in await people.holding(conn, role="guard", scope_type="society", scope_id=device.society_id)
            if not g.disabled
        ]
        pinned = await repo.with_pins(conn, device.society_id, [g.user_id for g in guards])
    return [RosterGuard(g.user_id, g.name, g.image_url, g.user_id in pinned) for g in guards]


async def sign_in(
    ctx: AppState, *, device_id: uuid.UUID, data: PinSignInIn, device: identity.Device
) -> identity.AuthResult:
    on_device, as_guard = f"gate_device:{device_id}", f"guard_pin:{data.user_id}"
    await ctx.limits.check_account("pin", on_device)
    await ctx.limits.check_account("pin", as_guard)
    async with ctx.db.connection() as conn:
        gate = await repo.live_device(conn, device_id, _hash(data.secret))
        pin_hash = await repo.pin_of(conn, user_id=data.user_id, society_id=gate.society_id) if gate else None
        guards = (
            await people.holding(conn, role="guard", scope_type="society", scope_id=gate.society_id) if gate else []
        )
    right = await ctx.passwords.verify(pin_hash, data.pin)  # the same work whatever is missing
    reason = (
        "invalid_device"
        if gate is None
        else "no_pin"
        if pin_hash is None
        else "wrong_pin"
        if not right
        else "not_a_guard"
        if data.user_id not in {g.user_id for g in guards}
        else None
    )
    async with ctx.db.transaction() as tx:
        if reason is None:
            return await identity.sign_in_as(
                ctx, tx, user_id=data.user_id, device=device, method="gate_pin", where=Scope(SOCIETY, gate.society_id)
            )
        await audit.record(
            tx.conn,
            actor_id=None,
            where=Scope(SOCIETY, gate.society_id) if gate else None,
            action="session.sign_in_failed",
            resource_type="user",
            resource_id=data.user_id,
            details={"method": "gate_pin", "reason": reason, "device_id": device_id},
        )
    await ctx.limits.count_account_failure("pin", on_device)
    await ctx.limits.count_account_failure("pin", as_guard)
    raise Unauthorized("Wrong device, guard or PIN.", code="invalid_credentials")
