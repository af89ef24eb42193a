"""Society hierarchy rules: admins create societies; admins and the society's
own admins add complexes, blocks and flats; anyone signed in may browse it
(residents need it to find their flat when they onboard).
"""

from __future__ import annotations

import uuid

import asyncpg

from app.platform import audit
from app.platform.http import Conflict, NotFound
from app.platform.pagination import Cursor
from app.platform.security.permissions import Principal, require, require_admin
from app.platform.security.scopes import Place, PlaceRef, Scope
from app.platform.state import AppState
from app.society.hierarchy import repo
from app.society.hierarchy.schemas import BlockIn, ComplexIn, FlatIn, SocietyIn
from app.society.rooms import FLAT, SOCIETY


async def list_cities(ctx: AppState) -> list[str]:
    async with ctx.db.connection() as conn:
        return await repo.list_cities(conn)


async def list_societies(ctx: AppState, *, city: str | None, after: Cursor, limit: int) -> list[repo.Society]:
    async with ctx.db.connection() as conn:
        return await repo.list_societies(conn, city=city, after=after, limit=limit)


async def list_complexes(ctx: AppState, *, society_id: uuid.UUID, after: Cursor, limit: int) -> list[repo.Complex]:
    async with ctx.db.connection() as conn:
        return await repo.list_complexes(conn, society_id=society_id, after=after, limit=limit)


async def list_blocks(ctx: AppState, *, complex_id: uuid.UUID, after: Cursor, limit: int) -> list[repo.Block]:
    async with ctx.db.connection() as conn:
        return await repo.list_blocks(conn, complex_id=complex_id, after=after, limit=limit)


async def list_flats(ctx: AppState, *, block_id: uuid.UUID, after: Cursor, limit: int) -> list[repo.Flat]:
    async with ctx.db.connection() as conn:
        return await repo.list_flats(conn, block_id=block_id, after=after, limit=limit)


async def create_society(ctx: AppState, *, actor: Principal, data: SocietyIn) -> repo.Society:
    """A new society (admins only)."""
    require_admin(actor)
    async with ctx.db.transaction() as tx:
        society = await repo.insert_society(tx.conn, name=data.name, city=data.city, address=data.address)
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="society.created",
            resource_type="society",
            resource_id=society.id,
            where=Scope(SOCIETY, society.id),
        )
        return society


async def create_complex(ctx: AppState, *, actor: Principal, data: ComplexIn) -> repo.Complex:
    """A complex in a society the caller administers."""
    async with ctx.db.transaction() as tx:
        if not await repo.society_exists(tx.conn, data.society_id):
            raise NotFound("No such society.")
        require(actor, "society_admin", "society", data.society_id)
        created = await repo.insert_complex(tx.conn, society_id=data.society_id, name=data.name)
        if created is None:
            raise Conflict("The society already has a complex of this name.", code="duplicate_name")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="complex.created",
            resource_type="complex",
            resource_id=created.id,
            where=Scope(SOCIETY, data.society_id),
        )
        return created


async def create_block(ctx: AppState, *, actor: Principal, data: BlockIn) -> repo.Block:
    """A block in a complex of a society the caller administers."""
    async with ctx.db.transaction() as tx:
        parent = await repo.get_complex(tx.conn, data.complex_id)
        if parent is None:
            raise NotFound("No such complex.")
        require(actor, "society_admin", "society", parent.society_id)
        created = await repo.insert_block(tx.conn, complex_id=parent.id, society_id=parent.society_id, name=data.name)
        if created is None:
            raise Conflict("The complex already has a block of this name.", code="duplicate_name")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="block.created",
            resource_type="block",
            resource_id=created.id,
            where=Scope(SOCIETY, parent.society_id),
        )
        return created


async def create_flat(ctx: AppState, *, actor: Principal, data: FlatIn) -> repo.Flat:
    """A flat in a block of a society the caller administers."""
    async with ctx.db.transaction() as tx:
        parent = await repo.get_block(tx.conn, data.block_id)
        if parent is None:
            raise NotFound("No such block.")
        require(actor, "society_admin", "society", parent.society_id)
        created = await repo.insert_flat(
            tx.conn, block_id=parent.id, society_id=parent.society_id, flat_number=data.flat_number, floor=data.floor
        )
        if created is None:
            raise Conflict("The block already has a flat with this number.", code="duplicate_flat_number")
        await audit.record(
            tx.conn,
            actor_id=actor.user_id,
            action="flat.created",
            resource_type="flat",
            resource_id=created.id,
            where=Scope(FLAT, created.id, {SOCIETY: parent.society_id}),
        )
        return created


async def society_of_flat(conn: asyncpg.Connection, flat_id: uuid.UUID) -> uuid.UUID | None:
    """The society a flat is in (None for no such flat), inside the caller's transaction."""
    return await repo.society_of_flat(conn, flat_id)


async def society_scope(conn: asyncpg.Connection, society_id: uuid.UUID) -> Scope | None:
    """The society as a scope roles are held on (None: no such society)."""
    return Scope(SOCIETY, society_id) if await repo.society_exists(conn, society_id) else None


async def flat_scope(conn: asyncpg.Connection, flat_id: uuid.UUID) -> Scope | None:
    """The flat as a scope, inside its society (None: no such flat)."""
    society_id = await repo.society_of_flat(conn, flat_id)
    return None if society_id is None else Scope(FLAT, flat_id, {SOCIETY: society_id})


async def describe_flats(conn: asyncpg.Connection, flat_ids: list[uuid.UUID]) -> dict[uuid.UUID, Place]:
    """Flats as people name them: the number, inside its society, complex and block."""
    return {
        f.id: Place(
            f.id,
            f.flat_number,
            (
                PlaceRef(SOCIETY, f.society_id, f.society),
                PlaceRef("complex", f.complex_id, f.complex),
                PlaceRef("block", f.block_id, f.block),
            ),
        )
        for f in await repo.flat_details(conn, flat_ids)
    }


async def describe_societies(conn: asyncpg.Connection, society_ids: list[uuid.UUID]) -> dict[uuid.UUID, Place]:
    return {i: Place(i, name) for i, name in (await repo.society_names(conn, society_ids)).items()}


async def get_flat(ctx: AppState, *, actor: Principal, flat_id: uuid.UUID) -> repo.FlatDetail:
    """One flat with its block, complex and society names: for its residents, its society's admins and
    guards (404 for anyone else, so ids of other flats reveal nothing)."""
    async with ctx.db.connection() as conn:
        found = await repo.flat_details(conn, [flat_id])
    if not found or not (
        actor.has("resident", FLAT, flat_id) or actor.has(("society_admin", "guard"), SOCIETY, found[0].society_id)
    ):
        raise NotFound("No such flat.")
    return found[0]
