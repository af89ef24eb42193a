"""Invite codes go to the visitor through the notification gateway; a refused one is retried by a job."""

from __future__ import annotations

import asyncio
import datetime as dt

from app.platform.db import Database
from tests.gateway import Gateway
from tests.helpers import Api, visitor_jobs_left
from tests.society.conftest import Gate


async def _invite(api: Api, gate: Gate, phone: str) -> dict:
    expected_at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    body = {"flat_id": gate.flat, "name": "Aunt Meena", "phone": phone, "expected_at": expected_at}
    response = await api.post("/v1/visitors", body, gate.resident)
    assert response.status_code == 201, response.text
    return response.json()


async def _outcomes(db: Database, visitor_id: str, count: int) -> list[str]:
    for _ in range(100):
        async with db.connection() as conn:
            rows = await conn.fetch(
                "SELECT outcome FROM notification_logs WHERE resource_id = $1 ORDER BY id", visitor_id
            )
        if len(rows) >= count:
            break
        await asyncio.sleep(0.05)
    return [r["outcome"] for r in rows]


async def test_a_refused_invite_is_sent_again_until_the_gateway_takes_it(
    notify_api: Api, gate: Gate, gateway: Gateway, db: Database
) -> None:
    invited = await _invite(notify_api, gate, "+91 98450 11111")
    gateway.refuse_next = 1
    sent = await notify_api.post(f"/v1/visitors/{invited['id']}/send-invite", {"channel": "sms"}, gate.resident)
    assert sent.status_code == 202 and sent.json() == {"status": "failed"}
    assert await _outcomes(db, invited["id"], 2) == ["failed", "sent"]
    (delivered,) = [m for m in gateway.messages if m["data"].get("code") == invited["invite_code"]]
    assert (delivered["channel"], delivered["to"], delivered["template"]) == (
        "sms",
        "+91 98450 11111",
        "visitor_invite",
    )


async def test_no_retry_once_the_visitor_has_arrived(
    notify_api: Api, gate: Gate, gateway: Gateway, db: Database
) -> None:
    invited = await _invite(notify_api, gate, "+91 98450 22222")
    gateway.refuse_next = 1
    sent = await notify_api.post(f"/v1/visitors/{invited['id']}/send-invite", {"channel": "whatsapp"}, gate.resident)
    assert sent.json() == {"status": "failed"}
    checkin = await notify_api.post("/v1/visits/checkin", {"invite_code": invited["invite_code"]}, gate.guard)
    assert checkin.status_code == 201
    assert await visitor_jobs_left(db, invited["id"]) == 0  # the retry job runs, finds the visitor inside, and ends
    assert await _outcomes(db, invited["id"], 1) == ["failed"]
    assert not [m for m in gateway.messages if m["data"].get("code") == invited["invite_code"]]
