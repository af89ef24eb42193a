"""SQL for visitors, their status history, visits, devices and escalations.

Every state change is a conditional UPDATE on the current status, so races
(two residents answering, two guards checking in) are decided by PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from app.platform import audit, context, idempotency
from app.platform.pagination import Cursor, keyset
from app.platform.realtime.outbox import insert_events
from app.platform.sql import Statement, assignments


@dataclass(frozen=True, slots=True)
class Visitor:
    id: uuid.UUID
    society_id: uuid.UUID
    flat_id: uuid.UUID
    name: str
    phone: str | None
    purpose: str | None
    vehicle_number: str | None
    status: str
    invite_code: str | None
    expected_at: dt.datetime | None
    created_by: uuid.UUID
    responded_by: uuid.UUID | None
    responded_by_name: str | None
    responded_at: dt.datetime | None
    response_note: str | None
    escalated_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Visit:
    id: uuid.UUID
    visitor_id: uuid.UUID
    society_id: uuid.UUID
    flat_id: uuid.UUID
    visitor_name: str
    checkin_at: dt.datetime
    checkout_at: dt.datetime | None
    checked_in_by: uuid.UUID
    checked_out_by: uuid.UUID | None


_V = """v.id, v.society_id, v.flat_id, v.name, v.phone, v.purpose, v.vehicle_number, v.status, v.invite_code,
        v.expected_at, v.created_by, v.responded_by, r.name AS responded_by_name, v.responded_at, v.response_note,
        v.escalated_at, v.created_at, v.updated_at"""


def _visitor(row: asyncpg.Record) -> Visitor:
    return Visitor(**dict(row))


async def insert_invite(
    conn: asyncpg.Connection,
    *,
    society_id: uuid.UUID,
    flat_id: uuid.UUID,
    name: str,
    phone: str | None,
    purpose: str | None,
    vehicle_number: str | None,
    invite_code: str,
    expected_at: dt.datetime,
    created_by: uuid.UUID,
) -> Visitor:
    """A resident's invitation: pre-approved, with its first history row. (Walk-ins: `register_walk_in`.)"""
    row = await conn.fetchrow(
        f"""WITH v AS (
                INSERT INTO visitors (society_id, flat_id, name, phone, purpose, vehicle_number, status,
                                      invite_code, expected_at, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, 'pre_approved', $7, $8, $9)
                RETURNING *),
            h AS (INSERT INTO visitor_status_history (visitor_id, to_status, actor_id)
                  SELECT id, status, created_by FROM v)
            SELECT {_V} FROM v LEFT JOIN users r ON r.id = v.responded_by""",
        society_id,
        flat_id,
        name,
        phone,
        purpose,
        vehicle_number,
        invite_code,
        expected_at,
        created_by,
    )
    return _visitor(row)


@dataclass(frozen=True, slots=True)
class Device:
    user_id: uuid.UUID
    token: str


@dataclass(frozen=True, slots=True)
class WalkIn:
    """What the walk-in statement wrote (the visitor's society, its `visitor_request` events: the flat's,
    then the society's) and the phones of the flat's residents, to push the request to."""

    society_id: uuid.UUID
    event_ids: tuple[int, int]
    event_at: dt.datetime
    quiet: bool  # for `Outbox.emit_committed`
    devices: list[Device]


# The gate's hot path in one statement, so one round trip and an implicit transaction: the
# visitor, its first history row, the audit row, the Idempotency-Key's stored response and the
# `visitor_request` events, to the flat (its residents answer) and to the society it finds (the other
# guards and its admins' consoles see who is at the gate), through the platform's CTE builders;
# returning the residents' device tokens for the push. The caller builds the visitor's JSON; the
# statement adds the society. No row comes back when the flat does not exist or is outside `:societies` (the societies
# the guard works at; `:any_society` for admins).
_WALK_IN = Statement(f"""
WITH f AS (SELECT society_id FROM flats
           WHERE id = :flat_id AND (:any_society OR society_id = ANY(:societies::uuid[]))),
v AS (
    INSERT INTO visitors (id, society_id, flat_id, name, phone, purpose, vehicle_number, status,
                          created_by, escalate_at, created_at, updated_at)
    SELECT :visitor_id, f.society_id, :flat_id, :name, :phone, :purpose, :vehicle_number, 'pending',
           :created_by, :escalate_at, :created_at, :created_at FROM f
    RETURNING id, society_id, flat_id, created_by),
doc AS (SELECT :document::text::jsonb || jsonb_build_object('society_id', society_id) AS data FROM v),
h AS (INSERT INTO visitor_status_history (visitor_id, to_status, actor_id) SELECT id, 'pending', created_by FROM v),
{
    audit.insert_cte(
        "a",
        "SELECT created_by, 'visitor.pending', 'visitor', id::text, :request_id, :ip::inet, "
        "ARRAY[flat_id, society_id] FROM v",
    )
},
{
    idempotency.insert_cte(
        "k",
        "SELECT :created_by, :key_scope, :key, :request_hash, 201, data FROM doc WHERE :key::text IS NOT NULL",
    )
},
batch AS (SELECT :room::text AS room, 'visitor_request' AS type, data, 1 AS n FROM doc
          UNION ALL
          SELECT :society_room_type || ':' || v.society_id, 'visitor_request', data, 2 FROM doc, v),
{insert_events("batch")}
SELECT v.society_id, e.ids AS event_ids, e.at AS event_at, (SELECT quiet FROM alone) AS quiet,
       d.users AS device_users, d.tokens AS device_tokens
FROM v, (SELECT array_agg(id ORDER BY id) AS ids, min(created_at) AS at FROM written) e, LATERAL (
    SELECT array_agg(dt.user_id) AS users, array_agg(dt.token) AS tokens FROM device_tokens dt
    JOIN role_assignments ra ON ra.user_id = dt.user_id
    WHERE ra.role = 'resident' AND ra.scope_type = 'flat' AND ra.scope_id = :flat_id) d
""")


async def register_walk_in(
    conn: asyncpg.Connection,
    *,
    visitor_id: uuid.UUID,
    flat_id: uuid.UUID,
    name: str,
    phone: str | None,
    purpose: str | None,
    vehicle_number: str | None,
    created_by: uuid.UUID,
    escalate_at: dt.datetime | None,
    created_at: dt.datetime,
    document: str,
    any_society: bool,
    societies: list[uuid.UUID],
    request_id: str | None,
    ip: str | None,
    idempotency: tuple[str, str, bytes] | None,
    room: str,
    society_room_type: str,
) -> WalkIn | None:
    """Write a guard's walk-in request outside any transaction block; None if the flat is not the guard's.

    Raises UniqueViolationError on `idempotency_keys_pkey` when `idempotency` (scope, key, body hash)
    was already used; nothing is written then.
    """
    key_scope, key, request_hash = idempotency or (None, None, None)
    row = await conn.fetchrow(
        _WALK_IN.sql,
        *_WALK_IN.args(
            visitor_id=visitor_id,
            flat_id=flat_id,
            name=name,
            phone=phone,
            purpose=purpose,
            vehicle_number=vehicle_number,
            created_by=created_by,
            escalate_at=escalate_at,
            created_at=created_at,
            document=document,
            any_society=any_society,
            societies=societies,
            request_id=request_id,
            ip=ip,
            key_scope=key_scope,
            key=key,
            request_hash=request_hash,
            room=room,
            society_room_type=society_room_type,
        ),
    )
    if row is None:
        return None
    devices = [Device(u, t) for u, t in zip(row["device_users"] or [], row["device_tokens"] or [], strict=True)]
    flat_event, society_event = row["event_ids"]
    return WalkIn(row["society_id"], (flat_event, society_event), row["event_at"], row["quiet"], devices)


async def get_visitor(conn: asyncpg.Connection, visitor_id: uuid.UUID) -> Visitor | None:
    row = await conn.fetchrow(
        f"SELECT {_V} FROM visitors v LEFT JOIN users r ON r.id = v.responded_by WHERE v.id = $1", visitor_id
    )
    return _visitor(row) if row else None


async def get_visitor_version(conn: asyncpg.Connection, visitor_id: uuid.UUID) -> tuple[Visitor, str] | None:
    """The visitor and its row version (`xmin`), for a write that must find the row as it was read."""
    row = await conn.fetchrow(
        f"""SELECT {_V}, v.xmin::text AS version FROM visitors v LEFT JOIN users r ON r.id = v.responded_by
            WHERE v.id = $1""",
        visitor_id,
    )
    if row is None:
        return None
    fields = dict(row)
    version = fields.pop("version")
    return Visitor(**fields), version


# A resident's answer in one statement, so one round trip and an implicit transaction, with no
# room lock held across a round trip: the answer applies only to the row version the caller read
# (`:version`, from `get_visitor_version`), so the caller knows the row it wrote and sends its JSON
# (`:document`) as the events' data, one event per room (`:rooms`), written through the outbox's
# `insert_events`. No row comes back when the row had changed.
_ANSWER = Statement(f"""
WITH v AS (
    UPDATE visitors SET status = :status, updated_at = :at, responded_by = :actor_id, responded_at = :at,
                        response_note = :note
    WHERE id = :visitor_id AND xmin::text = :version AND status = 'pending'
    RETURNING id, status, flat_id, society_id),
h AS (INSERT INTO visitor_status_history (visitor_id, from_status, to_status, actor_id, note)
      SELECT id, 'pending', status, :actor_id, :note FROM v),
{
    audit.insert_cte(
        "a",
        "SELECT :actor_id, 'visitor.' || status, 'visitor', id::text, :request_id, :ip::inet, "
        "ARRAY[flat_id, society_id] FROM v",
    )
},
batch AS (SELECT room, :event_type::text AS type, :document::text::jsonb AS data, n
          FROM v, unnest(:rooms::text[]) WITH ORDINALITY AS r(room, n)),
{insert_events("batch")}
SELECT id, created_at, (SELECT quiet FROM alone) AS quiet FROM written ORDER BY id
""")


async def answer(
    conn: asyncpg.Connection,
    *,
    answered: Visitor,
    version: str,
    request_id: str | None,
    ip: str | None,
    rooms: list[str],
    event_type: str,
    document: str,
) -> tuple[list[tuple[int, dt.datetime]], bool]:
    """Write `answered` (a pending visitor with its answer filled in) over row `version`, with its
    history, audit row and one `event_type` event per room; the events' ids and times, in the order
    of `rooms` (none if the row is no longer at `version`), and `quiet` for `Outbox.emit_committed`."""
    rows = await conn.fetch(
        _ANSWER.sql,
        *_ANSWER.args(
            visitor_id=answered.id,
            status=answered.status,
            at=answered.updated_at,
            actor_id=answered.responded_by,
            note=answered.response_note,
            version=version,
            request_id=request_id,
            ip=ip,
            rooms=rooms,
            event_type=event_type,
            document=document,
        ),
    )
    return [(row["id"], row["created_at"]) for row in rows], bool(rows) and rows[0]["quiet"]


async def visitor_by_invite_code(conn: asyncpg.Connection, code: str) -> Visitor | None:
    row = await conn.fetchrow(
        f"SELECT {_V} FROM visitors v LEFT JOIN users r ON r.id = v.responded_by WHERE v.invite_code = $1", code
    )
    return _visitor(row) if row else None


# A guard's move (check-in, check-out) with its history and audit rows. The history's `from_status`
# is read from the statement's snapshot (no lock: the UPDATE already decides races, and a row it
# updates is invisible to a locking read in the same statement).
_MOVE = Statement(f"""
WITH old AS (SELECT id, status FROM visitors WHERE id = :visitor_id),
v AS (
    UPDATE visitors SET status = :to_status, updated_at = now()
    WHERE id = :visitor_id AND status = ANY(:from_statuses::text[])
    RETURNING *),
h AS (INSERT INTO visitor_status_history (visitor_id, from_status, to_status, actor_id)
      SELECT v.id, old.status, v.status, :actor_id FROM v JOIN old ON old.id = v.id),
{
    audit.insert_cte(
        "a",
        "SELECT :actor_id, 'visitor.' || status, 'visitor', id::text, :request_id, :ip::inet, "
        "ARRAY[flat_id, society_id] FROM v",
    )
}
SELECT {_V} FROM v LEFT JOIN users r ON r.id = v.responded_by
""")


# The fields of an invitation its resident may change while it is pending at the gate.
INVITE_COLUMNS = ("name", "phone", "purpose", "vehicle_number", "expected_at")


async def update_invite(conn: asyncpg.Connection, visitor_id: uuid.UUID, changes: dict[str, Any]) -> Visitor | None:
    """Change a pre-approved invitation; None when it is not one (any more)."""
    row = await conn.fetchrow(
        f"""WITH v AS (
                UPDATE visitors SET {assignments(changes, 2)}, updated_at = now()
                WHERE id = $1 AND status = 'pre_approved' RETURNING *)
            SELECT {_V} FROM v LEFT JOIN users r ON r.id = v.responded_by""",
        visitor_id,
        *changes.values(),
    )
    return _visitor(row) if row else None


async def move(
    conn: asyncpg.Connection,
    *,
    visitor_id: uuid.UUID,
    from_statuses: tuple[str, ...],
    to_status: str,
    actor_id: uuid.UUID,
) -> Visitor | None:
    """Move a visitor to `to_status` if it is in one of `from_statuses`; None if it was not. The same
    statement writes the history row and the audit row (`visitor.<new status>`, from the request in
    `app.platform.context`)."""
    row = await conn.fetchrow(
        _MOVE.sql,
        *_MOVE.args(
            visitor_id=visitor_id,
            from_statuses=list(from_statuses),
            to_status=to_status,
            actor_id=actor_id,
            request_id=context.request_id.get(),
            ip=context.client_ip.get(),
        ),
    )
    return _visitor(row) if row else None


def _seen_from(flats: str, starts: str, row: str) -> str:
    """SQL for the moment a caller's view of `row`'s flat starts: the `starts` entry paired with it in
    `flats` (a role that starts fresh), or the beginning of time."""
    return f"""coalesce((SELECT f.since FROM unnest({flats}::uuid[], {starts}::timestamptz[]) AS f(id, since)
                        WHERE f.id = {row}.flat_id), '-infinity')"""


async def list_visitors(
    conn: asyncpg.Connection,
    *,
    flat_ids: list[uuid.UUID] | None,
    flats_from: list[dt.datetime | None] | None,
    society_ids: list[uuid.UUID] | None,
    flat_id: uuid.UUID | None,
    society_id: uuid.UUID | None,
    status: str | None,
    after: Cursor,
    limit: int,
) -> list[Visitor]:
    """Newest first. `flat_ids` (each seen from its `flats_from` moment on) and `society_ids` bound
    what the caller may see (None: no bound)."""
    rows = await conn.fetch(
        f"""SELECT {_V} FROM visitors v LEFT JOIN users r ON r.id = v.responded_by
            WHERE ($1::uuid[] IS NULL AND $2::uuid[] IS NULL
                   OR v.flat_id = ANY($1::uuid[]) AND v.created_at >= {_seen_from("$1", "$9", "v")}
                   OR v.society_id = ANY($2::uuid[]))
              AND ($3::uuid IS NULL OR v.flat_id = $3)
              AND ($4::uuid IS NULL OR v.society_id = $4)
              AND ($5::text IS NULL OR v.status = $5)
              AND ($6::timestamptz IS NULL OR (v.created_at, v.id) < ($6, $7))
            ORDER BY v.created_at DESC, v.id DESC LIMIT $8""",
        flat_ids,
        society_ids,
        flat_id,
        society_id,
        status,
        *keyset(after),
        limit + 1,
        flats_from,
    )
    return [_visitor(r) for r in rows]


async def expected_on(conn: asyncpg.Connection, *, society_id: uuid.UUID, day: dt.date) -> list[Visitor]:
    rows = await conn.fetch(
        f"""SELECT {_V} FROM visitors v LEFT JOIN users r ON r.id = v.responded_by
            WHERE v.society_id = $1 AND v.status = 'pre_approved'
              AND v.expected_at >= $2::date::timestamptz AND v.expected_at < ($2::date + 1)::timestamptz
            ORDER BY v.expected_at, v.id""",
        society_id,
        day,
    )
    return [_visitor(r) for r in rows]


async def claim_due_escalations(conn: asyncpg.Connection, limit: int = 100) -> list[Visitor]:
    """Mark unanswered requests past their deadline as escalated; each row is taken by one worker once."""
    rows = await conn.fetch(
        f"""WITH due AS (
                SELECT id FROM visitors
                WHERE status = 'pending' AND escalated_at IS NULL AND escalate_at <= now()
                ORDER BY escalate_at LIMIT $1
                FOR UPDATE SKIP LOCKED),
            v AS (UPDATE visitors SET escalated_at = now(), updated_at = now()
                  FROM due WHERE visitors.id = due.id RETURNING visitors.*)
            SELECT {_V} FROM v LEFT JOIN users r ON r.id = v.responded_by""",
        limit,
    )
    return [_visitor(r) for r in rows]


# Visits ---------------------------------------------------------------------------

_VISIT = """t.id, t.visitor_id, t.society_id, t.flat_id, v.name AS visitor_name, t.checkin_at, t.checkout_at,
            t.checked_in_by, t.checked_out_by"""


async def insert_visit(conn: asyncpg.Connection, *, visitor: Visitor, guard_id: uuid.UUID) -> Visit:
    row = await conn.fetchrow(
        f"""WITH t AS (INSERT INTO visits (visitor_id, society_id, flat_id, checked_in_by)
                       VALUES ($1, $2, $3, $4) RETURNING *)
            SELECT {_VISIT} FROM t JOIN visitors v ON v.id = t.visitor_id""",
        visitor.id,
        visitor.society_id,
        visitor.flat_id,
        guard_id,
    )
    return Visit(**dict(row))


async def close_visit(conn: asyncpg.Connection, *, visitor_id: uuid.UUID, guard_id: uuid.UUID) -> Visit | None:
    row = await conn.fetchrow(
        f"""WITH t AS (UPDATE visits SET checkout_at = now(), checked_out_by = $2
                       WHERE visitor_id = $1 AND checkout_at IS NULL RETURNING *)
            SELECT {_VISIT} FROM t JOIN visitors v ON v.id = t.visitor_id""",
        visitor_id,
        guard_id,
    )
    return Visit(**dict(row)) if row else None


async def list_visits(
    conn: asyncpg.Connection,
    *,
    flat_ids: list[uuid.UUID] | None,
    flats_from: list[dt.datetime | None] | None,
    society_ids: list[uuid.UUID] | None,
    flat_id: uuid.UUID | None,
    society_id: uuid.UUID | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    after: Cursor,
    limit: int,
) -> list[Visit]:
    """Newest check-in first; `since`/`until` bound `checkin_at` so only those partitions are read."""
    rows = await conn.fetch(
        f"""SELECT {_VISIT} FROM visits t JOIN visitors v ON v.id = t.visitor_id
            WHERE ($1::uuid[] IS NULL AND $2::uuid[] IS NULL
                   OR t.flat_id = ANY($1::uuid[]) AND t.checkin_at >= {_seen_from("$1", "$10", "t")}
                   OR t.society_id = ANY($2::uuid[]))
              AND ($3::uuid IS NULL OR t.flat_id = $3)
              AND ($4::uuid IS NULL OR t.society_id = $4)
              AND ($5::timestamptz IS NULL OR t.checkin_at >= $5)
              AND ($6::timestamptz IS NULL OR t.checkin_at < $6)
              AND ($7::timestamptz IS NULL OR (t.checkin_at, t.id) < ($7, $8))
            ORDER BY t.checkin_at DESC, t.id DESC LIMIT $9""",
        flat_ids,
        society_ids,
        flat_id,
        society_id,
        since,
        until,
        *keyset(after),
        limit + 1,
        flats_from,
    )
    return [Visit(**dict(r)) for r in rows]


async def ensure_visit_partitions(conn: asyncpg.Connection, months_ahead: int = 3) -> int:
    return await conn.fetchval("SELECT ensure_visit_partitions($1)", months_ahead)
