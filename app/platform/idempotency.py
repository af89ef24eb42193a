"""`Idempotency-Key` for writes a client may retry: the same key and body replay
the first response; the same key with another body is 422 `idempotency_key_reused`.
A key belongs to its user and to the method and path it was sent to.

The key is claimed inside the request's own transaction, so a concurrent retry
waits on the first attempt's row and then replays its committed response, and
a rolled-back attempt leaves the key free.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
from starlette.requests import Request

from app.platform.db import Tx
from app.platform.http import BadRequest, Unprocessable, dumps

_COLUMNS = "user_id, scope, key, request_hash, status, response"
_CLAIM = """
INSERT INTO idempotency_keys (user_id, scope, key, request_hash) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING RETURNING true
"""
_STORED = "SELECT request_hash, status, response FROM idempotency_keys WHERE user_id = $1 AND scope = $2 AND key = $3"
_SAVE = "UPDATE idempotency_keys SET status = $4, response = $5 WHERE user_id = $1 AND scope = $2 AND key = $3"


_PRUNE = """
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(days => $1) LIMIT 5000))
"""


async def prune(conn: asyncpg.Connection, *, days: int) -> int:
    """Forget keys older than `days` (in batches, so no one statement holds many locks); returns how many."""
    removed = 0
    while True:
        status = await conn.execute(_PRUNE, days)
        count = int(status.split()[-1])
        removed += count
        if count < 5000:
            return removed


_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def header_key(request: Request) -> str | None:
    """The request's `Idempotency-Key`, if it sent one (400 unless 1 to 200 visible ASCII characters)."""
    key = request.headers.get("idempotency-key")
    if key is not None and not _KEY.match(key):
        raise BadRequest(
            "Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID, say).", code="invalid_idempotency_key"
        )
    return key


def insert_cte(name: str, rows: str) -> str:
    """A CTE `name` that stores the responses `rows` selects, as (user_id, scope, key, request_hash, status,
    response jsonb), for a statement that does its work and keeps the key in one round trip. A key used before
    makes the statement fail on `idempotency_keys_pkey`; `replay` then answers."""
    return f"{name} AS (INSERT INTO idempotency_keys ({_COLUMNS}) {rows})"


@dataclass(frozen=True, slots=True)
class Attempt:
    """A retryable write as it arrived: where it was sent (method and path), its Idempotency-Key (None
    without one) and the hash of its body (empty without a key, since nothing compares it then)."""

    scope: str
    key: str | None
    digest: bytes


# For a write made by the server itself (demo data), which nothing retries.
UNKEYED = Attempt(scope="", key=None, digest=b"")


async def attempt(request: Request) -> Attempt:
    key = header_key(request)
    digest = request_hash(await request.body()) if key is not None else b""
    return Attempt(f"{request.method} {request.url.path}", key, digest)


@dataclass(frozen=True, slots=True)
class Replay:
    status: int
    body: Any


def request_hash(body: bytes) -> bytes:
    """Hash of the JSON body with keys sorted, so key order and spacing do not matter."""
    try:
        canonical = orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(canonical).digest()


class Key:
    """One claimed key within a transaction (or none, when the request sent no key)."""

    def __init__(self, tx: Tx, user_id: uuid.UUID, scope: str, key: str | None) -> None:
        self._tx, self._user_id, self._scope, self._key = tx, user_id, scope, key

    async def save(self, status: int, body: Any) -> None:
        """Remember the response, in the same transaction as the work (nothing, without a key)."""
        if self._key is None:
            return
        stored = orjson.loads(dumps(body))
        await self._tx.conn.execute(_SAVE, self._user_id, self._scope, self._key, status, stored)


async def claim(tx: Tx, *, user_id: uuid.UUID, attempt: Attempt) -> Key | Replay:
    """Claim the attempt's key, or return the first response for a retry; a request without a key
    gets a Key that remembers nothing, so callers need no second path."""
    if attempt.key is None:
        return Key(tx, user_id, attempt.scope, None)
    conn: asyncpg.Connection = tx.conn
    if await conn.fetchval(_CLAIM, user_id, attempt.scope, attempt.key, attempt.digest):
        return Key(tx, user_id, attempt.scope, attempt.key)
    return await replay(conn, user_id=user_id, attempt=attempt)


async def once(
    tx: Tx, *, user_id: uuid.UUID, attempt: Attempt, status: int, work: Callable[[Tx], Awaitable[Any]]
) -> tuple[int, Any]:
    """Do `work` in `tx` and keep its answer under the attempt's key, or answer a retry as the first time.
    Check the caller's rights before: a stored answer goes only to someone who may still ask."""
    key = await claim(tx, user_id=user_id, attempt=attempt)
    if isinstance(key, Replay):
        return key.status, key.body
    result = await work(tx)
    await key.save(status, result)
    return status, result


async def replay(conn: asyncpg.Connection, *, user_id: uuid.UUID, attempt: Attempt) -> Replay:
    """The response first stored under a key already used; 422 when it was used with another body."""
    stored = await conn.fetchrow(_STORED, user_id, attempt.scope, attempt.key)
    if stored["request_hash"] != attempt.digest:
        raise Unprocessable(
            "This Idempotency-Key was used with a different request body.", code="idempotency_key_reused"
        )
    return Replay(stored["status"], stored["response"])
