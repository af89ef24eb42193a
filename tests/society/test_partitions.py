"""Visits are partitioned by month, with partitions made ahead of time."""

from __future__ import annotations

import datetime as dt

from tests.helpers import Api
from tests.society.conftest import Gate, walk_in


async def test_partitions_exist_ahead_and_making_them_again_is_harmless(db) -> None:
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT ensure_visit_partitions(3)") == 0
        names = {
            r["name"]
            for r in await conn.fetch(
                "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'visits'::regclass"
            )
        }
    today = dt.datetime.now(dt.UTC).date().replace(day=1)
    wanted = set()
    for ahead in range(4):
        month = (today.month - 1 + ahead) % 12 + 1
        year = today.year + (today.month - 1 + ahead) // 12
        wanted.add(f"visits_{year:04d}_{month:02d}")
    assert wanted <= names


async def test_a_visit_lands_in_its_months_partition(api: Api, gate: Gate, db) -> None:
    visitor = await walk_in(api, gate)
    await api.post(f"/v1/visitors/{visitor['id']}/respond", {"decision": "approve"}, gate.resident)
    visit = (await api.post("/v1/visits/checkin", {"visitor_id": visitor["id"]}, gate.guard)).json()
    async with db.connection() as conn:
        partition = await conn.fetchval("SELECT tableoid::regclass::text FROM visits WHERE id = $1::uuid", visit["id"])
    now = dt.datetime.now(dt.UTC)
    assert partition == f"visits_{now:%Y_%m}"
