"""Demo data for `gatehouse seed-demo`: a small society to try the visitor flow with, in minutes."""

from __future__ import annotations

import uuid

from app.identity import demo as identity_demo
from app.identity import service as identity
from app.identity.schemas import RoleAssignmentIn
from app.platform.modules import DemoAccount
from app.platform.security.permissions import Principal
from app.platform.state import AppState
from app.society.gate import service as gate
from app.society.gate.schemas import GateDeviceIn, PinIn
from app.society.hierarchy import service as society
from app.society.hierarchy.schemas import BlockIn, ComplexIn, FlatIn, SocietyIn
from app.society.rooms import FLAT, SOCIETY

SOCIETY_NAME = "Green Acres"
CITY = "Bengaluru"
SOCIETY_ADMIN = ("society-admin@demo.example.com", "Meera (society admin)")
GATE_DEVICE = "Main gate tablet"
GUARD_PIN = "246810"


async def seed(ctx: AppState) -> list[DemoAccount]:
    """Create (or find) the demo society and its people; returns who can sign in."""
    admin = await identity_demo.admin(ctx)
    found = await identity_demo.held_by(ctx, *SOCIETY_ADMIN, role="society_admin", scope_type=SOCIETY)
    home = found or (await society.create_society(ctx, actor=admin, data=SocietyIn(name=SOCIETY_NAME, city=CITY))).id
    complexes = await society.list_complexes(ctx, society_id=home, after=None, limit=100)
    tower = (
        complexes[0]
        if complexes
        else await society.create_complex(ctx, actor=admin, data=ComplexIn(society_id=home, name="Tower A"))
    )
    blocks = await society.list_blocks(ctx, complex_id=tower.id, after=None, limit=100)
    block = (
        blocks[0]
        if blocks
        else await society.create_block(ctx, actor=admin, data=BlockIn(complex_id=tower.id, name="Block 1"))
    )
    flats = {f.flat_number: f for f in await society.list_flats(ctx, block_id=block.id, after=None, limit=100)}
    for number in ("101", "102", "201", "202"):
        if number not in flats:
            flats[number] = await society.create_flat(
                ctx, actor=admin, data=FlatIn(block_id=block.id, flat_number=number)
            )

    people = [
        (*SOCIETY_ADMIN, "society_admin", SOCIETY, home, SOCIETY_NAME),
        ("guard@demo.example.com", "Ravi (guard)", "guard", SOCIETY, home, f"{SOCIETY_NAME} gate"),
        ("resident1@demo.example.com", "Asha (resident)", "resident", FLAT, flats["101"].id, "flat 101"),
        ("resident2@demo.example.com", "Vikram (resident)", "resident", FLAT, flats["101"].id, "flat 101"),
        ("resident3@demo.example.com", "Lena (resident)", "resident", FLAT, flats["102"].id, "flat 102"),
    ]
    accounts = []
    users = {}
    for email, name, role, scope_type, scope_id, where in people:
        user = await identity_demo.account(ctx, email, name)
        await identity.grant_role(
            ctx,
            actor=admin,
            data=RoleAssignmentIn(user_id=user.id, role=role, scope_type=scope_type, scope_id=scope_id),
        )
        accounts.append(DemoAccount(role, email, where))
        users[role] = user.id
    accounts.append(await _gate_device(ctx, admin, home, users["guard"]))
    return accounts


async def _gate_device(ctx: AppState, admin: Principal, society_id: uuid.UUID, guard_id: uuid.UUID) -> DemoAccount:
    """The gate's tablet, registered afresh on each run (its secret is shown only when it is made, so the
    previous one is revoked), and the guard's PIN on it."""
    for old in await gate.devices(ctx, actor=admin, society_id=society_id):
        if old.name == GATE_DEVICE and old.revoked_at is None:
            await gate.revoke(ctx, actor=admin, device_id=old.id)
    made = await gate.register(
        ctx, actor=admin, society_id=society_id, data=GateDeviceIn(name=GATE_DEVICE, gate="Main")
    )
    await gate.set_pin(ctx, actor=admin, society_id=society_id, user_id=guard_id, data=PinIn(pin=GUARD_PIN))
    return DemoAccount(
        "gate device",
        f"device {made.device.id}, secret {made.secret}",
        f"{SOCIETY_NAME} main gate: Ravi (user {guard_id}) signs in with PIN {GUARD_PIN}",
    )
