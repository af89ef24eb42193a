"""SQL for issues, their assignees and their history. A move names the state it expects to leave, so
two staff moving one issue at once cannot both succeed."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from app.platform.pagination import Cursor, keyset
from app.platform.sql import Statement


@dataclass(frozen=True, slots=True)
class Move:
    from_state: str | None
    to_state: str
    actor_id: uuid.UUID | None
    note: str | None
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Issue:
    id: uuid.UUID
    mall_id: uuid.UUID
    issue_type: str
    details: str
    location: str | None
    shop_id: uuid.UUID | None
    image_url: str | None
    state: str
    source: str
    reported_by: uuid.UUID | None
    detections: int
    last_seen_at: dt.datetime | None
    assignees: list[uuid.UUID]
    history: list[Move]
    created_at: dt.datetime
    updated_at: dt.datetime


_ISSUE = """i.id, i.mall_id, i.issue_type, i.details, i.location, i.shop_id, i.image_url, i.state, i.source,
    i.reported_by, i.detections, i.last_seen_at,
    ARRAY(SELECT a.user_id FROM issue_assignees a WHERE a.issue_id = i.id ORDER BY a.assigned_at, a.user_id)
        AS assignees,
    (SELECT coalesce(jsonb_agg(jsonb_build_object('from_state', h.from_state, 'to_state', h.to_state,
            'actor_id', h.actor_id, 'note', h.note, 'at', h.at) ORDER BY h.id), '[]')
     FROM issue_history h WHERE h.issue_id = i.id) AS history,
    i.created_at, i.updated_at"""


def _issue(row: asyncpg.Record) -> Issue:
    values = dict(row)
    values["history"] = [
        Move(
            h["from_state"],
            h["to_state"],
            uuid.UUID(h["actor_id"]) if h["actor_id"] else None,
            h["note"],
            dt.datetime.fromisoformat(h["at"]),
        )
        for h in values["history"]
    ]
    return Issue(**values)


async def insert(
    conn: asyncpg.Connection,
    *,
    mall_id: uuid.UUID,
    issue_type: str,
    details: str,
    location: str | None,
    shop_id: uuid.UUID | None,
    image_url: str | None,
    source: str,
    reported_by: uuid.UUID,
) -> Issue:
    issue_id = await conn.fetchval(
        """WITH i AS (INSERT INTO issues (mall_id, issue_type, details, location, image_url, source, reported_by,
                                          shop_id)
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, reported_by),
                h AS (INSERT INTO issue_history (issue_id, to_state, actor_id) SELECT id, 'open', reported_by FROM i)
           SELECT id FROM i""",
        mall_id,
        issue_type,
        details,
        location,
        image_url,
        source,
        reported_by,
        shop_id,
    )
    found = await get(conn, issue_id)
    assert found is not None, "inserted in this transaction"
    return found


async def get(conn: asyncpg.Connection, issue_id: uuid.UUID) -> Issue | None:
    row = await conn.fetchrow(f"SELECT {_ISSUE} FROM issues i WHERE i.id = $1", issue_id)
    return _issue(row) if row else None


async def move(
    conn: asyncpg.Connection, *, issue_id: uuid.UUID, expected: str, to: str, actor_id: uuid.UUID, note: str | None
) -> bool:
    """Move the issue from `expected` to `to`, keeping the move; False if it was not in `expected`."""
    return bool(
        await conn.fetchval(
            """WITH i AS (UPDATE issues SET state = $3, updated_at = now() WHERE id = $1 AND state = $2 RETURNING id),
                    h AS (INSERT INTO issue_history (issue_id, from_state, to_state, actor_id, note)
                          SELECT id, $2, $3, $4, $5 FROM i)
               SELECT count(*) FROM i""",
            issue_id,
            expected,
            to,
            actor_id,
            note,
        )
    )


async def assign(
    conn: asyncpg.Connection, *, issue_id: uuid.UUID, user_ids: list[uuid.UUID], by: uuid.UUID
) -> list[uuid.UUID]:
    """Add assignees; returns those who were not assigned before."""
    rows = await conn.fetch(
        """INSERT INTO issue_assignees (issue_id, user_id, assigned_by) SELECT $1, u, $3 FROM unnest($2::uuid[]) u
           ON CONFLICT DO NOTHING RETURNING user_id""",
        issue_id,
        user_ids,
        by,
    )
    return [r["user_id"] for r in rows]


@dataclass(frozen=True, slots=True)
class IssueFilter:
    """What a list of a mall's issues is narrowed to; every field given must hold. `seen_by` (if given)
    lets through only the issues assigned to that person or reported by them."""

    mall_id: uuid.UUID
    state: str | None = None
    issue_type: str | None = None
    source: str | None = None
    shop_id: uuid.UUID | None = None
    assignee: uuid.UUID | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    seen_by: uuid.UUID | None = None


_LIST = Statement(f"""
SELECT {_ISSUE} FROM issues i
WHERE i.mall_id = :mall_id
  AND (:state::text IS NULL OR i.state = :state)
  AND (:issue_type::text IS NULL OR i.issue_type = :issue_type)
  AND (:source::text IS NULL OR i.source = :source)
  AND (:shop_id::uuid IS NULL OR i.shop_id = :shop_id)
  AND (:assignee::uuid IS NULL
       OR EXISTS (SELECT 1 FROM issue_assignees a WHERE a.issue_id = i.id AND a.user_id = :assignee))
  AND (:since::timestamptz IS NULL OR i.created_at >= :since)
  AND (:until::timestamptz IS NULL OR i.created_at < :until)
  AND (:seen_by::uuid IS NULL OR i.reported_by = :seen_by
       OR EXISTS (SELECT 1 FROM issue_assignees a WHERE a.issue_id = i.id AND a.user_id = :seen_by))
  AND (:after_at::timestamptz IS NULL OR (i.created_at, i.id) < (:after_at, :after_id::uuid))
ORDER BY i.created_at DESC, i.id DESC LIMIT :limit
""")


async def list_issues(conn: asyncpg.Connection, *, where: IssueFilter, after: Cursor, limit: int) -> list[Issue]:
    """Newest first."""
    after_at, after_id = keyset(after)
    values = {f: getattr(where, f) for f in IssueFilter.__slots__}  # type: ignore[attr-defined]
    rows = await conn.fetch(_LIST.sql, *_LIST.args(**values, after_at=after_at, after_id=after_id, limit=limit + 1))
    return [_issue(r) for r in rows]


async def delete(conn: asyncpg.Connection, issue_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM issues WHERE id = $1", issue_id)


async def open_by_state(conn: asyncpg.Connection, mall_id: uuid.UUID) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT state, count(*) AS n FROM issues WHERE mall_id = $1 AND state <> 'closed' GROUP BY state", mall_id
    )
    return {r["state"]: r["n"] for r in sorted(rows, key=lambda r: r["state"])}


async def detect(
    conn: asyncpg.Connection,
    *,
    mall_id: uuid.UUID,
    api_key_id: uuid.UUID,
    issue_type: str,
    details: str,
    location: str | None,
    shop_id: uuid.UUID | None,
    image_url: str | None,
) -> tuple[Issue, bool]:
    """A camera's detection: a new issue, or one more sighting of the open one of that type and place.
    Returns the issue and whether it is new."""
    row = await conn.fetchrow(
        """INSERT INTO issues AS i (mall_id, issue_type, details, location, image_url, source, api_key_id, last_seen_at,
                                   shop_id)
           VALUES ($1, $2, $3, $4, $5, 'model', $6, now(), $7)
           ON CONFLICT (mall_id, issue_type, (coalesce(location, '')))
               WHERE source = 'model' AND state NOT IN ('resolved', 'closed')
           DO UPDATE SET detections = i.detections + 1, last_seen_at = now(), updated_at = now()
           RETURNING i.id, (xmax = 0) AS created""",
        mall_id,
        issue_type,
        details,
        location,
        image_url,
        api_key_id,
        shop_id,
    )
    if row["created"]:
        await conn.execute(
            "INSERT INTO issue_history (issue_id, to_state, note) VALUES ($1, 'open', 'detected')", row["id"]
        )
    found = await get(conn, row["id"])
    assert found is not None, "written in this transaction"
    return found, row["created"]
